"""Imports point one way (DESIGN §3): walk every module of `vmx_app/` with `ast` and refuse the
forbidden directions, and keep every file small enough to read (under 400 lines)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "vmx_app"
FILES = sorted(ROOT.rglob("*.py"))

# importing package -> packages it must never import
FORBIDDEN: dict[str, frozenset[str]] = {
    "gateway": frozenset({"api", "services", "models", "db", "pages", "state"}),
    "services": frozenset({"api", "pages", "state"}),
    "auth": frozenset({"api", "pages", "state"}),
    "vault": frozenset({"api", "pages", "state"}),
    "models": frozenset({"api", "pages", "state", "services", "auth"}),
    # Pages and components talk to state (and state to the services' use cases, which open sessions).
    "pages": frozenset({"api", "db"}),
    "state": frozenset({"api"}),
    "components": frozenset({"api", "db"}),
}


def layer(path: Path) -> str:
    """`vmx_app/<layer>/...` or `vmx_app/<layer>.py` (db.py is the layer `db`)."""
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def imported_layers(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, layer) of every `vmx_app.<layer>` import, absolute or relative, at any depth
    (`source`: parse this text as though it were the file at `path`)."""
    tree = ast.parse(path.read_text() if source is None else source, filename=str(path))
    package = list(path.relative_to(ROOT.parent).with_suffix("").parts)[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            else:
                module = node.module or ""
            # `from vmx_app import api` names the layer in the imported names
            names = [f"{module}.{a.name}" for a in node.names] if module == "vmx_app" else [module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "vmx_app" and len(parts) > 1:
                found.append((node.lineno, parts[1]))
    return found


def test_the_walk_sees_the_whole_package() -> None:
    assert len(FILES) > 100 and {layer(f) for f in FILES} >= set(FORBIDDEN)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_one_way(path: Path) -> None:
    forbidden = FORBIDDEN.get(layer(path), frozenset())
    wrong = [f"line {line}: imports vmx_app.{target}" for line, target in imported_layers(path)
             if target in forbidden]
    assert not wrong, f"{path.relative_to(ROOT)} ({layer(path)}) " + "; ".join(wrong)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_file_is_under_400_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) < 400


def test_the_rules_catch_a_forbidden_import() -> None:
    """The checker itself: relative, absolute and `from vmx_app import x` imports are all seen."""
    probe = ROOT / "gateway" / "adapters" / "probe.py"
    source = "from ...services import users\nimport vmx_app.db\nfrom vmx_app import pages\nimport os\n"
    assert imported_layers(probe, source) == [(1, "services"), (2, "db"), (3, "pages")]


def test_pages_may_not_open_sessions() -> None:
    """A page that reaches for `vmx_app.db` is refused, as `from ..db import session_scope` or absolute."""
    page = ROOT / "pages" / "probe.py"
    for source in ("from ..db import session_scope\n", "from vmx_app.db import session_scope\n"):
        assert [t for _, t in imported_layers(page, source) if t in FORBIDDEN["pages"]] == ["db"]
