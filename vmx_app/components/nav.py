"""The console sidebar's entries. Page modules add theirs with `register_nav_item` before compile.

Every page built with `console_layout` reads `nav_items()` when Reflex evaluates it (at compile time,
after all pages are registered), so an item registered by a later page module shows on every page.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    route: str
    icon: str  # a lucide icon name, as rx.icon spells it (snake_case)
    order: int  # position in the sidebar, ascending
    section: str = "Workspace"  # heading the item is grouped under
    admin_only: bool = False  # shown only when the signed-in user holds the admin role


_SECTIONS: tuple[str, ...] = ("Workspace", "AI", "Administration")

_ITEMS: dict[str, NavItem] = {}


def register_nav_item(item: NavItem) -> None:
    """Add (or replace, by route) a sidebar entry. Sections: Workspace, AI, Administration.

    The identity pages use orders 10-60; AI pages are expected around 100 (connections 110,
    resources 120, pricing 130) in the "AI" section.
    """
    if item.section not in _SECTIONS:
        raise ValueError(f"unknown nav section {item.section!r}; use one of {_SECTIONS}")
    _ITEMS[item.route] = item


def nav_items() -> list[NavItem]:
    return sorted(_ITEMS.values(), key=lambda item: (_SECTIONS.index(item.section), item.order, item.label))


def nav_sections() -> list[tuple[str, list[NavItem]]]:
    """Non-empty sections in display order, each with its items."""
    items = nav_items()
    return [(section, [i for i in items if i.section == section]) for section in _SECTIONS
            if any(i.section == section for i in items)]
