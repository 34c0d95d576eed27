"""Every ORM model, imported in one place so Alembic and tests see the whole schema."""

from gateway.access_log.models import DataAccess, DataAccessPupil, DataAccessPupilSet
from gateway.accounts.models import AccountLink, Admin, AdminSession, RecoveryCode, ResetRequest
from gateway.apps.models import App
from gateway.audit.models import AuditCheckpoint, AuditEvent
from gateway.connector.models import ConnectorKey
from gateway.consent.models import AuthorizationRequest, ConsentReceipt, Grant, SensitiveApproval
from gateway.data_api.models import AudienceSnapshot
from gateway.db.base import Base
from gateway.developers.models import Developer, DeveloperKey
from gateway.email.models import OutboxMessage
from gateway.erasure.models import InactivityWarning, PurgeRecord, SchoolDeletion
from gateway.exports.models import Export, ExportChunk
from gateway.incidents.models import Incident, IncidentSchool
from gateway.jobs.models import JobRun
from gateway.keys.models import SchoolKey, ServerSecret, SigningKey
from gateway.manage.models import SchoolApiKey
from gateway.mis.models import ConnectorBatch, GroupMembership, MisRecordRow, SyncRun
from gateway.schools.models import School
from gateway.schools.settings import SchoolSettings
from gateway.support.models import SupportRequest
from gateway.tokens.models import AuthorizationCode, IssuedAccessToken, RefreshToken
from gateway.webhooks.models import WebhookEndpoint, WebhookMessage, WebhookSecret

metadata = Base.metadata

__all__ = [
    "AccountLink",
    "Admin",
    "AdminSession",
    "App",
    "AudienceSnapshot",
    "AuditCheckpoint",
    "AuditEvent",
    "AuthorizationCode",
    "AuthorizationRequest",
    "Base",
    "ConnectorBatch",
    "ConnectorKey",
    "ConsentReceipt",
    "DataAccess",
    "DataAccessPupil",
    "DataAccessPupilSet",
    "Developer",
    "DeveloperKey",
    "Export",
    "ExportChunk",
    "Grant",
    "GroupMembership",
    "InactivityWarning",
    "Incident",
    "IncidentSchool",
    "IssuedAccessToken",
    "JobRun",
    "MisRecordRow",
    "OutboxMessage",
    "PurgeRecord",
    "RecoveryCode",
    "RefreshToken",
    "ResetRequest",
    "School",
    "SchoolApiKey",
    "SchoolDeletion",
    "SchoolKey",
    "SchoolSettings",
    "SensitiveApproval",
    "ServerSecret",
    "SigningKey",
    "SupportRequest",
    "SyncRun",
    "WebhookEndpoint",
    "WebhookMessage",
    "WebhookSecret",
    "metadata",
]
