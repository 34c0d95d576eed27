"""School API keys (`/manage/v1/api-keys`), issued directly as if through the API."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.keys.keyring import Keyring
from gateway.manage import api_keys
from gateway.manage.principal import SchoolPrincipal
from tests.support.accounts import Account

URL = "/manage/v1/api-keys"


async def issue_key(session: AsyncSession, keyring: Keyring, owner: Account, name: str = "Script") -> str:
    """A key of the owner's school, made by its admin (as if through the API), committed."""
    _row, token = await api_keys.create_key(
        session, keyring, SchoolPrincipal(owner.school.id, admin_id=owner.admin.id), name
    )
    await session.commit()
    return token


def prefix_of(token: str) -> str:
    return token.split("_")[2]
