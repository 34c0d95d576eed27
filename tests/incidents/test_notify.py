"""`notify` tells each touched school once: its active admins and its data protection contact get the notice
through a real SMTP server, the notice is in the school's chain, and the school's dashboard shows the
incident; a second run sends nothing new (issue 16, item 2)."""

from __future__ import annotations

import email
from datetime import timedelta
from email.message import Message
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts.service import disable_admin
from gateway.audit import events
from gateway.audit.service import list_events
from gateway.db.base import utcnow
from gateway.db.session import Database
from gateway.email.sender import deliver_due
from gateway.email.smtp_url import parse_smtp_url
from gateway.email.transports import SmtpTransport
from gateway.errors import Conflict
from gateway.incidents import notices
from gateway.incidents.service import close_incident, open_incident, status_of
from gateway.schools.settings import change_settings
from tests.incidents.conftest import END, START, read
from tests.support.accounts import ISSUER, Account, make_account, sign_in
from tests.support.smtp import SMTP_PASSWORD, SMTP_USER, SmtpServer
from tests.support.world import World

SUMMARY = "A copy of a planner export was left on a public server."


async def test_each_school_is_told_once_by_email_in_its_chain_and_on_its_dashboard(
    session: AsyncSession,
    world: World,
    test_database: Database,
    smtp_server: SmtpServer,
    browser: httpx.AsyncClient,
) -> None:
    first = await make_account(session, "head@first.example.org")
    second_admin = await make_account(session, "bursar@first.example.org", school=first.school)
    gone = await make_account(session, "left@first.example.org", school=first.school)
    await disable_admin(session, gone.admin, actor=events.OPERATOR)
    await change_settings(
        session,
        first.school.id,
        dpo_name="Dana Protector",
        dpo_email="dpo@trust.example.org",
        email_on_more_access=True,
        actor=events.admin(first.admin.id),
    )
    other = await make_account(session, "office@second.example.org")
    untouched = await make_account(session, "office@quiet.example.org")
    planner = await world.app("Homework Planner")
    await read(session, world, first.school, planner, START, frozenset({"stu-1", "stu-2", "stu-3"}))
    await read(session, world, other.school, planner, END, frozenset({"stu-9"}))
    incident = await open_incident(
        session,
        summary=SUMMARY,
        detected_at=END + timedelta(hours=1),
        window_from=START,
        window_to=END,
        school_refs=(),
        client_ids=(),
        opened_by="ops-alice",
        now=utcnow(),
    )
    await session.commit()

    drafted = await notices.drafts(session, incident, issuer=ISSUER)
    assert [(notice.urn, notice.admins, notice.dpo_contact) for notice in drafted] == sorted(
        [(first.school.urn, 2, True), (other.school.urn, 1, False)]
    )
    first_draft = next(notice for notice in drafted if notice.urn == first.school.urn)
    assert "Homework Planner" in first_draft.body
    assert "Pupils whose records were read in that time: 3." in first_draft.body
    assert "stu-1" not in first_draft.body
    assert (await status_of(session, incident, now=utcnow())).fully_notified is False

    sent = await notices.notify(session, incident, issuer=ISSUER, now=utcnow())
    await session.commit()
    assert sorted(notice.urn for notice in sent) == sorted([first.school.urn, other.school.urn])

    smtp_server.start()
    transport = SmtpTransport(
        parse_smtp_url(
            f"smtp://{SMTP_USER}:{quote(SMTP_PASSWORD, safe='')}@127.0.0.1:{smtp_server.port}?starttls=false"
        ),
        sender="gateway@synthetic.example.org",
    )
    report = await deliver_due(test_database.sessionmaker, transport)
    assert report.sent == 4
    received = {tuple(envelope.rcpt_tos): envelope for envelope in smtp_server.inbox.envelopes}
    assert sorted(received) == sorted(
        [
            ("bursar@first.example.org",),
            ("dpo@trust.example.org",),
            ("head@first.example.org",),
            ("office@second.example.org",),
        ]
    )
    message: Message = email.message_from_bytes(received[("dpo@trust.example.org",)].content)  # type: ignore[arg-type]
    assert message["Subject"] == f"An incident may have affected {first.school.name}'s data"
    body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert SUMMARY in body
    assert f"{ISSUER}/dashboard" in body

    for account, admins, dpo in ((first, 2, True), (other, 1, False)):
        [notified] = [
            event
            for event in await list_events(session, account.school.id)
            if event.event_type == "incident.notified"
        ]
        assert (notified.actor, notified.details) == (
            "operator",
            f'{{"admins":{admins},"dpo_contact":{"true" if dpo else "false"},"incident_id":"{incident.id}"}}',
        )
    assert not [
        event
        for event in await list_events(session, untouched.school.id)
        if event.event_type == "incident.notified"
    ]
    status = await status_of(session, incident, now=utcnow())
    assert status.fully_notified
    assert [
        (school.notified_admins, school.notified_dpo)
        for school in status.schools
        if school.urn == first.school.urn
    ] == [(2, True)]

    assert await notices.notify(session, incident, issuer=ISSUER, now=utcnow()) == []
    assert await notices.drafts(session, incident, issuer=ISSUER) == []
    await session.commit()
    assert (await deliver_due(test_database.sessionmaker, transport)).sent == 0
    assert len(smtp_server.inbox.envelopes) == 4

    await _sees_the_incident(browser, second_admin, shown=True)
    await _sees_the_incident(browser, untouched, shown=False)

    await close_incident(
        session, incident, outcome="The copy was removed; nobody had downloaded it.", now=utcnow()
    )
    await session.commit()
    with pytest.raises(Conflict):
        await notices.notify(session, incident, issuer=ISSUER, now=utcnow())
    page = await _sees_the_incident(browser, first, shown=True)
    assert "Incident closed" in page
    assert "nobody had downloaded it" in page
    log = await browser.get("/dashboard/log")
    assert "The school was told of an incident that may have affected its data" in log.text


async def _sees_the_incident(browser: httpx.AsyncClient, account: Account, *, shown: bool) -> str:
    browser.cookies.clear()
    assert (await sign_in(browser, account.email, account.password)).headers["location"] == "/dashboard"
    page = (await browser.get("/dashboard")).text
    assert (SUMMARY in page) is shown
    return page
