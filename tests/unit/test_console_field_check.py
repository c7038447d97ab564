"""The console's field checks (`vmx_app.state.field_check`): one field checked with the schema its service
validates with, in plain words; an error shown on blur follows the value and goes once it is fixed; a
refusal's errors sit next to their fields and the banner never repeats them."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from reflex.state import State

import vmx_app.vmx_app  # noqa: F401 - registers every page state under the root state
from vmx_app.components.schema_form import schema_fields
from vmx_app.errors import Invalid
from vmx_app.gateway.config import PoolConfig
from vmx_app.models.ai_resource import AIResourceCreate
from vmx_app.models.role import RoleCreate
from vmx_app.models.user import UserCreate, UserUpdate
from vmx_app.models.workspace import NAME_PATTERN, WorkspaceCreate
from vmx_app.pages.change_password import ChangePasswordState
from vmx_app.pages.environments import EnvironmentsState
from vmx_app.pages.resource_editor_state import ResourceEditorState, json_problem
from vmx_app.pages.workspaces import WorkspacesState
from vmx_app.services.providers import PROVIDERS
from vmx_app.state.api_keys import ApiKeysState
from vmx_app.state.connections import ConnectionEditorState
from vmx_app.state.field_errors import NAME_RULE, banner_text, field_problem, split_refusal
from vmx_app.state.pools import PoolsState
from vmx_app.state.pricing import PricingState


def state_of(cls: type[Any]) -> Any:
    root = State(_reflex_internal_init=True)  # type: ignore[call-arg]
    return root.get_substate(cls.get_full_name().split(".")[1:])


@pytest.mark.parametrize(("schema", "name", "value", "expected"), [
    (WorkspaceCreate, "name", "", "Name is required."),
    (WorkspaceCreate, "name", "  ", "Name is required."),
    (WorkspaceCreate, "name", "a:b", NAME_RULE),
    (WorkspaceCreate, "name", "acme", ""),
    (WorkspaceCreate, "description", "", ""),  # optional: empty is "not given"
    (WorkspaceCreate, "description", "x" * 501, "Use at most 500 characters."),
    (AIResourceCreate, "name", "my chat", "Use no spaces and none of : * ? (clients send this name as the model)."),
    (RoleCreate, "name", "-ops", "Start with a letter or a digit; then use only letters, digits, _ . and -."),
    (UserCreate, "email", "not-an-email", "Enter an email address like name@example.com."),
    (UserCreate, "password", "", "Password is required."),
    (UserCreate, "password", "short", "Passwords need at least 12 characters."),
    (UserUpdate, "password", "", ""),  # the edit dialog: empty keeps the password
    (PoolConfig, "rank", "first", "Enter a whole number."),
    (PoolConfig, "min_reservation", "101", "Use a value of at most 100."),
    (PoolConfig, "rank", "5000", "Use a value of at most 1,000."),
])
def test_one_field_is_checked_with_its_schema_in_plain_words(schema: Any, name: str, value: str,
                                                              expected: str) -> None:
    problem = field_problem(schema, name, value)
    assert problem == expected
    assert "String should" not in problem and NAME_PATTERN not in problem


def test_the_field_check_and_the_whole_body_agree() -> None:
    """What the blur check says is what the service's validation of the body says about that field."""
    for value in ("", "a:b", "x" * 101):
        with pytest.raises(ValidationError) as whole:
            WorkspaceCreate(name=value)
        assert split_refusal(whole.value, {"name"})[0] == {"name": field_problem(WorkspaceCreate, "name", value)}
    with pytest.raises(ValidationError) as empty:  # an empty submit: what is missing, not the password rules
        UserCreate(email="", password="")
    assert split_refusal(empty.value, {"email", "password"})[0] == {"email": "Email is required.",
                                                                    "password": "Password is required."}


def test_a_refusal_goes_next_to_its_fields_and_the_banner_never_repeats_it() -> None:
    with pytest.raises(ValidationError) as exc:
        UserCreate(email="x@y", password="short", state="nope")
    shown, others = split_refusal(exc.value, {"email", "password"})
    assert shown == {"password": "Passwords need at least 12 characters."}
    assert set(others) == {"state"}
    banner = banner_text(shown, others, "the whole text")
    assert banner.startswith("State: Choose one of") and "12 characters" not in banner
    assert banner_text({}, others, "the whole text") == "the whole text"
    assert banner_text(shown, {}, "the whole text") == ""
    refusal = Invalid("name taken", field="name", details=[{"field": "name", "message": "already in use"}])
    assert split_refusal(refusal, {"name"}) == ({"name": "Already in use."}, {})


def test_an_error_appears_on_blur_follows_the_value_and_goes_once_fixed() -> None:
    s = state_of(WorkspacesState)
    s._recheck("create", "name", "a:b")  # typing: no error yet (none shown)
    assert s.field_errors == {}
    s._check("create", "name", "a:b")  # blur
    assert s.field_errors == {"name": NAME_RULE}
    s._recheck("create", "name", "")  # still typing: the shown error follows the value
    assert s.field_errors == {"name": "Name is required."}
    s._check("create", "description", "fine")
    s._recheck("create", "name", "acme")  # fixed: gone at once
    assert s.field_errors == {}


def test_pages_check_the_values_their_forms_send() -> None:
    keys = state_of(ApiKeysState)
    assert keys._check("create", "labels", "team-a, " + "x" * 101) == "Use at most 100 characters."
    assert keys._check("edit", "labels", "team-a, team-b") == ""
    assert keys._check("edit", "expires_at", "31/12/2099") == "Enter a date."
    assert keys._check("edit", "name", " ") == "Name is required."
    keys._check_amount(0, "")
    keys._check_amount(1, "-1")
    assert {k: v for k, v in keys.field_errors.items() if k.startswith("budgets.")} == {
        "budgets.0.amount_usd": "Amount is required.", "budgets.1.amount_usd": "Use a value of at least 0."}
    resource = state_of(ResourceEditorState)
    assert resource._check("resource", "default_args", '{"temperature": ').startswith("Not valid JSON (")
    assert resource._check("resource", "default_args", "[1]") == "Must be a JSON object."
    resource._recheck("resource", "default_args", '{"temperature": 0.2}')
    assert resource.field_errors == {}
    assert resource._check("slot", "model", "") == "Model is required."
    # The other slots: secondary / fallback rows and the routing destinations, same slot schema.
    assert resource._check("slot", "fallback_models.1.model", " ") == "Model is required."
    assert resource._check("slot", "secondary_models.0.timeout_ms", "50") == "Use a value of at least 100."
    assert resource._check("then", "then.0.traffic", "150") == "Use a value of at most 100."
    assert resource._check("then", "then.0.max_retries", "2") == ""
    resource._recheck("slot", "fallback_models.1.model", "gpt-4o")
    assert set(resource.field_errors) == {"model", "secondary_models.0.timeout_ms", "then.0.traffic"}
    resource._forget_row_errors("then.")
    assert set(resource.field_errors) == {"model", "secondary_models.0.timeout_ms"}
    resource.field_errors = {}
    pools = state_of(PoolsState)
    pools._ids = {"chat": "id-1"}
    assert pools._check("pool", "0.resources", "chat, nope") == "No AI resource named nope in this environment."
    assert pools._check("pool", "1.max_reservation", "-1") == "Use a value of at least 0."
    assert set(pools.field_errors) == {"0.resources", "1.max_reservation"}
    prices = state_of(PricingState)
    assert prices._check("price", "model", "") == "Model is required."
    assert prices._check("price", "input_per_million", "-2") == "Use a value of at least 0."
    password = state_of(ChangePasswordState)
    assert password._missing({}) == {"current_password": "Current password is required.",
                                     "new_password": "New password is required.",
                                     "confirm_password": "Repeat the new password."}
    assert password._missing({"current_password": "x", "new_password": "Another-pass-123",
                              "confirm_password": "Another-pass-124"}) == \
        {"confirm_password": "The new passwords do not match."}


def test_quick_budget_fields_are_checked_with_the_budget_schema_of_the_form() -> None:
    """The dialogs' day / month / lifetime amounts: checked as items of the form's `budgets` (BudgetEntry);
    an empty one is no budget of that period, not a missing amount."""
    for cls, forms in ((EnvironmentsState, ("create", "edit")), (ApiKeysState, ("create",))):
        s = state_of(cls)
        for form in forms:
            assert s._check(form, "budgets.day.amount_usd", "-5") == "Use a value of at least 0."
            assert s._check(form, "budgets.month.amount_usd", "lots") == "Enter a number."
            assert s._check(form, "budgets.lifetime.amount_usd", "") == ""
            assert set(s.field_errors) == {"budgets.day.amount_usd", "budgets.month.amount_usd"}
            s._recheck(form, "budgets.day.amount_usd", "12.5")
            s._recheck(form, "budgets.month.amount_usd", " ")
            assert s.field_errors == {}


def test_connection_config_fields_are_checked_with_the_provider_schema() -> None:
    """A connection's provider fields (a JSON Schema per provider, what `validate_config` checks the saved
    config with) go through the same field check: keyed `config.<key>`, in plain words."""
    s = state_of(ConnectionEditorState)
    s.provider, s.fields = "openai", schema_fields(PROVIDERS["openai"].config_schema)
    assert s._check("config", "config.baseUrl", "api.example.com") == "Must be an http(s) URL."
    assert s._check("config", "config.apiKey", "") == "API key is required."
    assert s._check("config", "config.baseUrl", "") == ""  # optional: the default URL
    s._recheck("config", "config.apiKey", "********")  # a secret's stand-in: filled
    assert s.field_errors == {}
    s.provider, s.fields = "bedrock", schema_fields(PROVIDERS["bedrock"].config_schema)
    assert s._check("config", "config.region", " ") == "Region is required."
    assert s._check("config", "config.accessKeyId", "AKIA") == ""  # its pair is checked with the whole config
    s.set_provider("openai")
    assert s.field_errors == {}


def test_a_fixed_json_error_clears() -> None:
    assert json_problem('{"name": ').startswith("Not valid JSON: ")
    assert json_problem("[]") == "The resource must be a JSON object."
    assert json_problem('{"name": "chat"}') == ""
