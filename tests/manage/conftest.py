"""School API keys of the two schools of `account` and `other_account`, and a signed-in admin browser, for
`/manage/v1` (helpers in tests/support/school_keys.py and tests/support/accounts.py)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.keys.keyring import Keyring
from tests.support.accounts import Account, SignedIn, csrf_from, sign_in
from tests.support.school_keys import issue_key


@pytest.fixture
async def token(session: AsyncSession, keyring: Keyring, account: Account) -> str:
    return await issue_key(session, keyring, account, "Nightly report")


@pytest.fixture
async def other_token(session: AsyncSession, keyring: Keyring, other_account: Account) -> str:
    return await issue_key(session, keyring, other_account, "Other school's script")


@pytest.fixture
async def admin_browser(browser: httpx.AsyncClient, account: Account) -> SignedIn:
    """Signed in through the real login form; the CSRF token is the one the account page carries."""
    response = await sign_in(browser, account.email, account.password)
    assert response.headers["location"] == "/dashboard"
    return SignedIn(browser, await csrf_from(browser, "/account"))
