"""Every ORM model, imported in one place so Alembic and tests see the whole schema."""

from gateway.connector.models import ConnectorKey
from gateway.db.base import Base
from gateway.keys.models import SchoolKey, ServerSecret
from gateway.mis.models import ConnectorBatch, GroupMembership, MisRecordRow, SyncRun
from gateway.schools.models import School

metadata = Base.metadata

__all__ = [
    "Base",
    "ConnectorBatch",
    "ConnectorKey",
    "GroupMembership",
    "MisRecordRow",
    "School",
    "SchoolKey",
    "ServerSecret",
    "SyncRun",
    "metadata",
]
