"""What the console's handlers and pages use to check and hide: the services' scope checks
(`vmx_app.services.access`) and the one authorization module, so the console never imports the API."""

from __future__ import annotations

from vmx_app.auth.authorization import Principal as Principal
from vmx_app.auth.authorization import allowed as allowed
from vmx_app.auth.authorization import require as require
from vmx_app.services.access import env_item_for as env_item_for
from vmx_app.services.access import env_module_for as env_module_for
from vmx_app.services.access import environment_for as environment_for
from vmx_app.services.access import environments_of as environments_of
from vmx_app.services.access import is_owner as is_owner
from vmx_app.services.access import owned_workspace_for as owned_workspace_for
from vmx_app.services.access import parse_id as parse_id
from vmx_app.services.access import user_id_by_email as user_id_by_email
from vmx_app.services.access import workspace_for as workspace_for
