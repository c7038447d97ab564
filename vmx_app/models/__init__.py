"""Every SQLModel table, imported so SQLModel.metadata (and Alembic) sees them all."""

from vmx_app.models.ai_connection import AIConnection
from vmx_app.models.ai_resource import AIResource
from vmx_app.models.api_key import ApiKey
from vmx_app.models.completion_batch import BatchStatus, CompletionBatch, CompletionBatchItem
from vmx_app.models.model_pricing import ModelPricing
from vmx_app.models.pool_definition import PoolDefinition
from vmx_app.models.request_audit import RequestAudit
from vmx_app.models.role import Role, RoleAssignment
from vmx_app.models.user import AuthSession, LoginAttempt, User, UserState
from vmx_app.models.workspace import Environment, MemberRole, Workspace, WorkspaceMember

__all__ = [
    "AIConnection", "AIResource", "ApiKey", "AuthSession", "BatchStatus", "CompletionBatch",
    "CompletionBatchItem", "Environment", "LoginAttempt", "MemberRole",
    "ModelPricing", "PoolDefinition", "RequestAudit", "Role", "RoleAssignment", "User", "UserState",
    "Workspace", "WorkspaceMember",
]
