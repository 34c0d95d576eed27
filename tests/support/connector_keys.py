"""Connector keys (`gw_ck_…`), issued directly as if by `gateway connector create-key`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.connector import keys
from gateway.keys.keyring import Keyring
from gateway.schools.models import School


async def issue_connector_key(session: AsyncSession, keyring: Keyring, school: School) -> str:
    """A live connector key of `school`, made by the operator, committed."""
    _row, token = await keys.create_key(session, keyring, school.id, actor="operator")
    await session.commit()
    return token
