"""Advanced-mode routing expressions in CEL (cel-python), compiled once per expression text.

Each expression is compiled once (a bounded LRU keyed by its text, so a resource's new version with a
new expression compiles that one once) into two forms: closures over plain values for the subset
routing rules use (`routing_cel_fast`, a few microseconds), and celpy's interpreter, which answers
whatever the closures defer (unsupported constructs, mixed types, errors) and words every failure.

Variables: every RoutingInput field by its camelCase name plus the `metadata` map; function
`errorRate(window, status)`. celpy binds functions when a program is built, so `errorRate`
is bound once to a trampoline that calls the per-request callback held in a ContextVar.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import celpy
import lark
from celpy import celtypes

from vmx_app.gateway.routing_cel_fast import Fn, Unsupported, compile_fast
from vmx_app.gateway.types import ErrorRateFn

# Names an expression may use as variables (RoutingInput fields, camelCase).
CEL_VARIABLES = frozenset({
    "requestTokens", "messagesCount", "toolsCount", "hasTools", "stream", "firstMessage", "lastMessage",
    "allMessagesContent", "metadata", "apiKeyName",
})
_MACROS = frozenset({"has", "dyn", "all", "exists", "exists_one", "map", "filter"})
_FUNCTIONS = frozenset(celpy.base_functions) | {"errorRate", "has", "dyn"}
CACHE_SIZE = 1024

_current_error_rate: ContextVar[ErrorRateFn | None] = ContextVar("vmx_cel_error_rate", default=None)
# celpy's parser is a process-wide singleton; the default (interpreted) runner keeps its tree class.
_env = celpy.Environment()


def _error_rate_trampoline(window: Any = 10, status: Any = "any") -> celtypes.DoubleType:
    fn = _current_error_rate.get()
    if fn is None:
        raise RuntimeError("errorRate() called outside a routing evaluation")
    status_arg: str | int = "any" if str(status) == "any" else int(status)
    return celtypes.DoubleType(float(fn(int(window), status_arg)))


_FUNCTION_BINDINGS: dict[str, Any] = {"errorRate": _error_rate_trampoline}


@dataclass(frozen=True)
class _Compiled:
    runner: celpy.Runner | None
    error: str | None
    fast: Fn | None = None  # None: the expression is outside the fast subset


class _CompileCache:
    """LRU of compiled programs keyed by expression text; failures are cached too."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, _Compiled] = OrderedDict()
        self._lock = threading.Lock()
        self.compiles = 0

    def get(self, text: str) -> _Compiled:
        with self._lock:
            hit = self._items.get(text)
            if hit is not None:
                self._items.move_to_end(text)
                return hit
        compiled = _compile(text)
        with self._lock:
            self.compiles += 1
            self._items[text] = compiled
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        return compiled

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.compiles = 0


_cache = _CompileCache(CACHE_SIZE)


def _iter_trees(tree: lark.Tree) -> Iterator[lark.Tree]:
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(c for c in node.children if isinstance(c, lark.Tree))


def _first_token(node: lark.Tree) -> str | None:
    for child in node.children:
        if isinstance(child, lark.Token):
            return str(child)
    return None


def _name_errors(ast: lark.Tree) -> list[str]:
    """Unknown variables and functions, found on the tree so typos fail at config time."""
    bound: set[str] = set()
    for node in _iter_trees(ast):
        # Macro variables, e.g. `x` in `list.exists(x, x > 1)`, are bound names.
        if node.data == "member_dot_arg" and _first_token(node) in _MACROS:
            exprlist = next((c for c in node.children
                             if isinstance(c, lark.Tree) and c.data == "exprlist"), None)
            if exprlist and exprlist.children:
                idents = [n for n in _iter_trees(exprlist.children[0]) if n.data == "ident"]
                if len(idents) == 1:
                    bound.add(str(_first_token(idents[0])))
    errors: list[str] = []
    for node in _iter_trees(ast):
        name = _first_token(node)
        if node.data == "ident" and name not in CEL_VARIABLES and name not in bound:
            errors.append(f"unknown variable {name!r} (known: {', '.join(sorted(CEL_VARIABLES))})")
        elif node.data == "ident_arg" and name not in _FUNCTIONS:
            errors.append(f"unknown function {name!r}")
    return sorted(set(errors))


def _compile(text: str) -> _Compiled:
    if not text.strip():
        return _Compiled(None, "the expression is empty")
    try:
        ast = _env.compile(text)
    except celpy.CELParseError as exc:
        return _Compiled(None, f"syntax error: {' '.join(str(exc).split())}")
    names = _name_errors(ast)
    if names:
        return _Compiled(None, "; ".join(names))
    try:
        fast: Fn | None = compile_fast(ast, _env)
    except Unsupported:
        fast = None
    return _Compiled(_env.program(ast, functions=_FUNCTION_BINDINGS), None, fast)


def check_expression(text: str) -> str | None:
    """The compile error of an expression, or None when it is usable (result cached)."""
    return _cache.get(text).error


def compile_count() -> int:
    """How many expressions were compiled since start (or the last clear_cache); for tests and metrics."""
    return _cache.compiles


def clear_cache() -> None:
    _cache.clear()


def to_cel_vars(variables: Mapping[str, Any]) -> dict[str, Any]:
    return {name: celpy.json_to_cel(value) for name, value in variables.items()}


def evaluate_expression(text: str, variables: Mapping[str, Any], error_rate: ErrorRateFn) -> tuple[bool, str]:
    """(matched, explanation). Any failure (compile, evaluation, non-bool result) is no match."""
    compiled = _cache.get(text)
    if compiled.runner is None:
        return False, f"invalid expression: {compiled.error}"
    if compiled.fast is not None:
        try:
            matched = compiled.fast((variables, error_rate))
        except Exception:  # noqa: BLE001 - Defer or anything unexpected: celpy decides and explains
            pass
        else:
            return matched, f"expression is {str(matched).lower()}"
    token = _current_error_rate.set(error_rate)
    try:
        result = compiled.runner.evaluate(to_cel_vars(variables))
    except Exception as exc:  # celpy raises CELEvalError and, from callbacks, anything
        return False, f"evaluation failed: {_short(exc)}"
    finally:
        _current_error_rate.reset(token)
    if isinstance(result, celpy.CELEvalError):
        return False, f"evaluation failed: {_short(result)}"
    if not isinstance(result, celtypes.BoolType):
        return False, f"expression returned {type(result).__name__}, not a bool"
    return bool(result), f"expression is {str(bool(result)).lower()}"


def _short(exc: BaseException) -> str:
    msg = exc.args[0] if exc.args else exc
    text = " ".join(str(msg).split())
    return text if len(text) <= 200 else text[:197] + "..."
