"""Apps, schools, live grants and access tokens minted directly (no authorize or token endpoint needed)."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps import service as apps
from gateway.apps.models import App, AuthMethod
from gateway.apps.validation import AppDraft
from gateway.consent.audience import Audience
from gateway.consent.models import Grant
from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from gateway.schools.models import School
from gateway.schools.service import create_school
from gateway.scopes import format_scopes
from gateway.tokens import issuance
from tests.support.developers import DeveloperWithKey, make_developer

SCOPES = ("school", "groups", "students.basic", "students.demographics")
_urns = itertools.count(700001)
_emails = itertools.count(1)


@dataclass
class World:
    """What the tests build on: `session`, `keyring` and the issuer, with helpers that flush."""

    session: AsyncSession
    keyring: Keyring
    issuer: str

    async def developer(self) -> DeveloperWithKey:
        number = next(_emails)
        return await make_developer(
            self.session, self.keyring, f"App Maker {number}", f"maker{number}@apps.example.org"
        )

    async def app(self, name: str = "Homework Planner", developer: DeveloperWithKey | None = None) -> App:
        owner = developer or await self.developer()
        app, _secret, _webhook_secret = await apps.register(
            self.session,
            self.keyring,
            owner.developer.id,
            AppDraft(
                name=name,
                description="Sets homework for classes.",
                redirect_uris=("https://planner.example.com/oauth/callback",),
                required_scopes="school groups students.basic",
                optional_scopes="students.demographics attendance.summaries",
                token_endpoint_auth_method=AuthMethod.CLIENT_SECRET_BASIC,
                privacy_policy_url="https://planner.example.com/privacy",
                support_url="https://planner.example.com/support",
                webhook_url=None,
            ),
        )
        await self.session.commit()
        return app

    async def school(self, name: str | None = None) -> School:
        urn = str(next(_urns))
        school = await create_school(
            self.session,
            urn=urn,
            name=name or f"Synthetic Academy {urn}",
            la_code="201",
            establishment_number="4001",
            phase="secondary",
        )
        await self.session.commit()
        return school

    async def grant(
        self,
        school: School,
        app: App,
        scopes: tuple[str, ...] = SCOPES,
        audience: dict[str, object] | None = None,
    ) -> Grant:
        grant = Grant(school_id=school.id, app_id=app.id, scopes=format_scopes(scopes))
        grant.audience_json = Audience.parse(audience).stored_json()
        self.session.add(grant)
        await self.session.commit()
        return grant

    async def school_token(
        self,
        app: App,
        grant: Grant,
        *,
        school_id: uuid.UUID | None = None,
        scopes: tuple[str, ...] = SCOPES,
    ) -> issuance.MintedAccessToken:
        minted = await issuance.school_access_token(
            self.session,
            self.keyring,
            issuer=self.issuer,
            app=app,
            grant_id=grant.id,
            school_id=school_id or grant.school_id,
            family_id=uuid.uuid4(),
            scopes=scopes,
            now=utcnow(),
        )
        await self.session.commit()
        return minted

    async def is_live(self, grant: Grant) -> bool:
        """Whether the grant is still live, as the database has it now."""
        stored = await self.session.get(Grant, grant.id, populate_existing=True)
        assert stored is not None
        return stored.revoked_at is None

    async def app_token(self, app: App) -> issuance.MintedAccessToken:
        minted = await issuance.app_access_token(
            self.session, self.keyring, issuer=self.issuer, app=app, scopes=["school"], now=utcnow()
        )
        await self.session.commit()
        return minted
