"""Two schools with an admin each, school API keys, and signed-in browsers for `/manage/v1`."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts.sessions import COOKIE_NAME, Stage, open_session
from gateway.audit.models import AuditEvent
from gateway.keys.keyring import Keyring
from gateway.manage import api_keys
from gateway.manage.principal import SchoolPrincipal
from tests.accounts.conftest import Account, account, browser, csrf_from, other_account, sign_in

__all__ = ["account", "browser", "other_account"]  # fixtures shared with tests/accounts

URL = "/manage/v1/api-keys"


@pytest.fixture
def keyring(master_key_b64: str) -> Keyring:
    return Keyring(base64.b64decode(master_key_b64))


async def issue_key(session: AsyncSession, keyring: Keyring, owner: Account, name: str = "Script") -> str:
    """A key of the owner's school, made by its admin (as if through the API), committed."""
    _row, token = await api_keys.create_key(
        session, keyring, SchoolPrincipal(owner.school.id, admin_id=owner.admin.id), name
    )
    await session.commit()
    return token


@pytest.fixture
async def token(session: AsyncSession, keyring: Keyring, account: Account) -> str:
    return await issue_key(session, keyring, account, "Nightly report")


@pytest.fixture
async def other_token(session: AsyncSession, keyring: Keyring, other_account: Account) -> str:
    return await issue_key(session, keyring, other_account, "Other school's script")


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def prefix_of(token: str) -> str:
    return token.split("_")[2]


@dataclass
class SignedIn:
    """A browser with a fully signed-in admin session, and that session's CSRF token."""

    client: httpx.AsyncClient
    csrf_token: str

    @property
    def csrf(self) -> dict[str, str]:
        return {"x-csrf-token": self.csrf_token}


@pytest.fixture
async def admin_browser(browser: httpx.AsyncClient, account: Account) -> SignedIn:
    """Signed in through the real login form; the CSRF token is the one the account page carries."""
    response = await sign_in(browser, account.email, account.password)
    assert response.headers["location"] == "/account"
    return SignedIn(browser, await csrf_from(browser, "/account"))


async def session_cookie(session: AsyncSession, owner: Account, stage: Stage) -> tuple[str, str]:
    """A session opened directly at `stage`: (cookie value, csrf token)."""
    opened = await open_session(session, owner.admin, stage)
    await session.commit()
    return opened.token, opened.record.csrf_token


def set_session_cookie(client: httpx.AsyncClient, value: str) -> None:
    client.cookies.set(COOKIE_NAME, value, domain="gateway.test", path="/")


async def audit_trail(session: AsyncSession, owner: Account) -> list[tuple[str, str, dict[str, object]]]:
    """The school's events as (type, actor, details), in chain order."""
    rows = await session.execute(
        select(AuditEvent.event_type, AuditEvent.actor, AuditEvent.details)
        .where(AuditEvent.school_id == owner.school.id)
        .order_by(AuditEvent.seq)
    )
    return [(kind, actor, json.loads(details)) for kind, actor, details in rows]
