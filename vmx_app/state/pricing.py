"""The model pricing page's state: the catalog for everyone, add/edit/delete for whoever the policy allows
(admins, with the seeded roles)."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import reflex as rx
from pydantic import BaseModel, ValidationError
from reflex.event import EventSpec

from vmx_app.auth.authorization import Principal
from vmx_app.auth.policy import model_pricing_resource
from vmx_app.components.capacity_editor import number_text, parse_number
from vmx_app.errors import DomainError
from vmx_app.models import ModelPricing
from vmx_app.models.model_pricing import ModelPricingCreate
from vmx_app.services import pricing_admin
from vmx_app.state.access import allowed, parse_id
from vmx_app.state.connections import problem_text
from vmx_app.state.crud import InPlaceListMixin
from vmx_app.state.field_check import FieldCheckMixin
from vmx_app.state.workspace import WorkspaceState

ALL_PROVIDERS = "all"
PRICE_FIELDS = (("input", "inputPerMillion"), ("output", "outputPerMillion"),
                ("cached", "cachedInputPerMillion"), ("reasoning", "reasoningPerMillion"))
# The dialog's draft keys as the schema's fields (what its errors are keyed by).
SCHEMA_FIELDS = {"provider": "provider", "model": "model", "input": "input_per_million",
                 "output": "output_per_million", "cached": "cached_input_per_million",
                 "reasoning": "reasoning_per_million"}


@dataclasses.dataclass
class PriceRow:
    id: str = ""
    provider: str = ""
    model: str = ""
    input: str = ""
    output: str = ""
    cached: str = ""
    reasoning: str = ""


def price_row(row: ModelPricing) -> PriceRow:
    return PriceRow(id=str(row.id), provider=row.provider, model=row.model, input=number_text(row.input_per_million),
                    output=number_text(row.output_per_million), cached=number_text(row.cached_input_per_million),
                    reasoning=number_text(row.reasoning_per_million))


class PricingState(FieldCheckMixin, InPlaceListMixin, WorkspaceState):
    FIELD_SCHEMAS: ClassVar[dict[str, type[BaseModel]]] = {"price": ModelPricingCreate}
    FORM_FIELDS: ClassVar[frozenset[str]] = frozenset(SCHEMA_FIELDS.values())
    rows: list[PriceRow] = []
    provider_filter: str = ALL_PROVIDERS
    search: str = ""
    can_update: bool = False
    dialog_open: bool = False
    editing_id: str = ""
    draft: PriceRow = PriceRow()
    error: str = ""

    @rx.var
    def visible(self) -> list[PriceRow]:
        needle = self.search.strip().lower()
        return [p for p in self.rows if (self.provider_filter in (ALL_PROVIDERS, p.provider))
                and (not needle or needle in p.model.lower())]

    @rx.var
    def provider_choices(self) -> list[str]:
        return [ALL_PROVIDERS, *sorted({p.provider for p in self.rows})]

    async def _refresh(self, principal: Principal) -> None:
        await self.load_context(principal)
        await self._reload()
        every = model_pricing_resource("*")
        self.can_create = allowed(principal, "model-pricing:create", model_pricing_resource())
        self.can_update = allowed(principal, "model-pricing:update", every)
        self.can_delete = allowed(principal, "model-pricing:delete", every)

    async def _reload(self) -> None:
        self.list_error = ""
        self.rows = [price_row(r) for r in await pricing_admin.list_prices()]

    @rx.event
    def set_provider_filter(self, value: str) -> None:
        self.provider_filter = value

    @rx.event
    def set_search(self, value: str) -> None:
        self.search = value

    @rx.event
    def open_new(self) -> None:
        provider = self.provider_filter if self.provider_filter != ALL_PROVIDERS else "openai"
        self.editing_id, self.draft, self.error, self.dialog_open = "", PriceRow(provider=provider), "", True
        self.field_errors = {}

    @rx.event
    def open_edit(self, price_id: str) -> None:
        row = next((p for p in self.rows if p.id == price_id), None)
        if row is not None:
            self.editing_id, self.draft, self.error, self.dialog_open = price_id, row, "", True
            self.field_errors = {}

    @rx.event
    def set_dialog_open(self, value: bool) -> None:
        self.dialog_open = value

    @rx.event
    def set_draft(self, key: str, value: str) -> None:
        self.draft = dataclasses.replace(self.draft, **{key: value})
        self._recheck("price", SCHEMA_FIELDS[key], value)

    def _body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"provider": self.draft.provider, "model": self.draft.model.strip()}
        for attr, key in PRICE_FIELDS:
            value = parse_number(getattr(self.draft, attr), integer=False)
            if value is not None or attr in ("cached", "reasoning"):  # an emptied optional price is cleared
                body[key] = value
        return body

    @rx.event
    async def save(self, _form: dict[str, Any] | None = None) -> EventSpec | None:
        principal = await self.current_principal()
        if principal is None:
            return rx.redirect("/login", replace=True)
        self.error = ""
        try:
            price_id = parse_id(self.editing_id, "model price") if self.editing_id else None
            await pricing_admin.save_price_as(principal, price_id, self._body())
        except (DomainError, ValidationError) as exc:
            self.error = self._place_refusal(exc, self.FORM_FIELDS, problem_text(exc))
            return None
        self.dialog_open = False
        await self._reload()
        return rx.toast.success(f"Price for {self.draft.provider}/{self.draft.model.strip()} saved")

    @rx.event
    async def delete(self, price_id: str) -> EventSpec | None:
        async def remove(principal: Principal) -> str:
            label = await pricing_admin.delete_price_as(principal, parse_id(price_id, "model price"))
            return f"Price for {label} deleted"

        return await self._delete_listed(price_id, remove)
