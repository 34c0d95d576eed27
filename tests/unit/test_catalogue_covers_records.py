"""The scope catalogue and the MIS record models describe the same fields (issue: MIS data, item 1)."""

from __future__ import annotations

import pytest

from gateway.mis.records import RECORD_MODELS
from gateway.scopes import RESOURCES, allowed_fields, scopes_for_field
from gateway.scopes.catalogue import SCOPE_NAMES


@pytest.mark.parametrize("resource", sorted(RECORD_MODELS))
def test_every_field_of_every_record_belongs_to_exactly_one_scope(resource: str) -> None:
    for field in RECORD_MODELS[resource].model_fields:
        assert len(scopes_for_field(resource, field)) == 1, f"{resource}.{field}"


def test_every_catalogued_field_exists_on_its_record_model() -> None:
    everything = allowed_fields(SCOPE_NAMES)
    assert set(everything) == set(RESOURCES) == set(RECORD_MODELS)
    for resource, fields in everything.items():
        assert fields == set(RECORD_MODELS[resource].model_fields), resource
