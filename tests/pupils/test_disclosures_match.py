"""The disclosures answer matches what the data API actually sent (Hypothesis, through HTTP; issue 13,
item 4).

A generated school (tests/support/data_api.py, 60 pupils with attendance, results, contacts) and one app.
Each example sets the grant's scopes and audience, makes a few reads (listings followed over a few pages,
single records, the changes feed), works out from the response bodies alone which pupils each response
carried, and then asks `/manage/v1/students/{id}/disclosures` about every pupil of the school: the
responses it lists (of this example) must be exactly those, and the app must be listed as able to see
the pupil now exactly when the independent oracle (`expected_view`) puts the pupil in the app's view.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.scopes import allowed_fields
from tests.data_api.test_properties import audiences, scope_sets
from tests.support.accounts import make_account
from tests.support.data_api import PATHS, Connected, connect, expected_view, load_school, stored
from tests.support.school_keys import issue_key
from tests.support.world import World

SEED = 7
PER_PUPIL = ("student_contacts", "attendance_sessions", "attendance_summaries", "results", "exclusions")


@pytest.fixture
async def school(world: World) -> tuple[Connected, dict[str, str]]:
    loaded = await load_school(world.session, world.keyring, SEED)
    connected = await connect(world, loaded, SEED)
    account = await make_account(world.session, "sar.officer@synthetic-school.example.org", school=loaded)
    key = await issue_key(world.session, world.keyring, account, "Subject access requests")
    return connected, {"authorization": f"Bearer {key}"}


def pupil_of_record() -> dict[str, dict[str, str]]:
    """resource -> record id -> the pupil it is about, from the generated data (not from the response)."""
    data = stored(SEED)
    return {resource: {r["id"]: r["student_id"] for r in data.get(resource, [])} for resource in PER_PUPIL}


OWNERS = pupil_of_record()


def carried(resource: str, record: dict[str, Any]) -> set[str]:
    if resource == "students":
        return {record["id"]}
    if resource in OWNERS:
        return {OWNERS[resource][record["id"]]}
    if resource == "groups":
        return set(record.get("student_ids", []))
    return set()


Reads = list[tuple[str, int, int]]  # (resource or "changes", limit, pages or -1 for one record)
reads = st.lists(
    st.tuples(
        st.sampled_from([*sorted(PATHS), "changes"]),
        st.sampled_from([3, 17, 1500]),
        st.sampled_from([1, 2, -1]),
    ),
    min_size=1,
    max_size=4,
)


async def make_reads(
    client: httpx.AsyncClient, headers: dict[str, str], plan: Reads
) -> tuple[set[str], dict[str, set[tuple[str, str]]]]:
    """This example's request ids, and pupil -> {(request id, resource)} from the bodies sent."""
    requests: set[str] = set()
    sent: dict[str, set[tuple[str, str]]] = {}

    def note(request_id: str, resource: str, record: dict[str, Any]) -> None:
        for pupil in carried(resource, record):
            sent.setdefault(pupil, set()).add((request_id, resource))

    for resource, limit, pages in plan:
        path = "/api/v1/changes" if resource == "changes" else PATHS[resource]
        cursor: str | None = None
        for _page in range(max(pages, 1)):
            params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
            response = await client.get(path, params=params, headers=headers)
            if response.status_code == 403:  # the grant does not cover the resource: nothing sent
                break
            assert response.status_code == 200, response.text[:300]
            request_id = response.headers["x-request-id"]
            requests.add(request_id)
            body = response.json()
            if resource == "changes":
                for change in body["changes"]:
                    if "record" in change:
                        note(request_id, change["resource"], change["record"])
                cursor = body["next_cursor"] if body["has_more"] else None
            else:
                for record in body["data"]:
                    note(request_id, resource, record)
                cursor = body["next_cursor"]
                if pages == -1 and body["data"]:  # then one record by id
                    one = await client.get(f"{path}/{body['data'][-1]['id']}", headers=headers)
                    assert one.status_code == 200, one.text[:300]
                    requests.add(one.headers["x-request-id"])
                    note(one.headers["x-request-id"], resource, one.json())
            if cursor is None:
                break
    return requests, sent


def pupil_resources(scopes: frozenset[str]) -> set[str]:
    fields = allowed_fields(scopes)
    about = {resource for resource in ("students", *PER_PUPIL) if resource in fields}
    return about | ({"groups"} if "student_ids" in fields.get("groups", ()) else set())


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scopes=scope_sets, audience=audiences(SEED), plan=reads)
async def test_disclosures_match_what_the_data_api_sent(
    client: httpx.AsyncClient,
    school: tuple[Connected, dict[str, str]],
    scopes: frozenset[str],
    audience: dict[str, Any] | None,
    plan: Reads,
) -> None:
    connected, school_key = school
    grant_scopes = scopes | {"school"}
    await connected.regrant(grant_scopes, audience)
    requests, sent = await make_reads(client, connected.headers, plan)

    in_view = set(expected_view(stored(SEED), grant_scopes | {"students.basic"}, audience)["students"])
    about = pupil_resources(grant_scopes)
    for pupil in (record["id"] for record in stored(SEED)["students"]):
        response = await client.get(
            f"/manage/v1/students/{pupil}/disclosures", params={"limit": 500}, headers=school_key
        )
        assert response.status_code == 200, response.text[:300]
        body = response.json()
        listed = {
            (d["request_id"], d["resource"]) for d in body["disclosures"] if d["request_id"] in requests
        }
        assert listed == sent.get(pupil, set()), pupil
        can_see = pupil in in_view and bool(about)
        assert [a["app_id"] for a in body["current_access"]] == ([str(connected.app.id)] if can_see else [])
        if can_see:
            assert set(body["current_access"][0]["fields"]) == about
