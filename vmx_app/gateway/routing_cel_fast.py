"""A fast path for advanced-routing expressions: the celpy parse tree compiled once into Python closures
over plain values.

celpy's interpreter walks the tree with a visitor and wraps every value in its own types, about 1 ms
for `requestTokens > 1000000`. The closures here cover the subset routing rules use (literals,
variables, `&&` `||` `!` `?:`, comparisons, `+ - *`, `in`, `.field`, `[i]`, `size`, `contains`,
`startsWith`, `endsWith`, `errorRate`) and only for operands of the same CEL type. Anything else, at
compile time (an unsupported construct) or at run time (mixed types, a missing key, an overflow, a
non-bool result), is not guessed at: `Defer` hands the expression to celpy, which stays the reference
for every answer this module does not give.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

import celpy
import lark
from celpy import celtypes

from vmx_app.gateway.types import ErrorRateFn

Env = tuple[Mapping[str, Any], ErrorRateFn]
Fn = Callable[[Env], Any]
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
_SCALARS = (int, float, str, bool)
_COMPARE = {"relation_lt": operator.lt, "relation_le": operator.le, "relation_gt": operator.gt,
            "relation_ge": operator.ge, "relation_eq": operator.eq, "relation_ne": operator.ne}
_ARITH = {"addition_add": operator.add, "addition_sub": operator.sub, "multiplication_mul": operator.mul}
_STRING_METHODS = {"contains": str.__contains__, "startsWith": str.startswith, "endsWith": str.endswith}
_NATIVE = {celtypes.BoolType: bool, celtypes.IntType: int, celtypes.DoubleType: float, celtypes.StringType: str}


class Unsupported(Exception):
    """The expression uses something outside the fast subset: celpy evaluates it."""


class Defer(Exception):
    """This evaluation left the fast subset (mixed types, missing key, overflow): celpy decides."""


def compile_fast(ast: lark.Tree, env: celpy.Environment) -> Fn:
    """A closure `(variables, error_rate) -> bool` for the tree, or Unsupported."""
    body = _node(ast, env)

    def run(e: Env) -> bool:
        value = body(e)
        if type(value) is not bool:
            raise Defer  # celpy words the "not a bool" answer
        return value

    return run


def _children(tree: lark.Tree) -> list[Any]:
    return list(tree.children)


def _node(tree: lark.Tree, env: celpy.Environment) -> Fn:  # noqa: C901 - one branch per grammar rule
    kind, kids = tree.data, _children(tree)
    if kind in ("expr", "conditionalor", "conditionaland", "relation", "addition", "multiplication",
                "unary", "member", "primary") and len(kids) == 1 and isinstance(kids[0], lark.Tree):
        return _node(kids[0], env)
    if kind == "expr" and len(kids) == 3:
        return _ternary(*(_node(k, env) for k in kids))
    if kind in ("conditionalor", "conditionaland") and len(kids) == 2:
        return _logical(_node(kids[0], env), _node(kids[1], env), kind == "conditionalor")
    if kind in ("relation", "addition", "multiplication") and len(kids) == 2:
        # `a > b` parses as relation(relation_gt(a), b): the operator node wraps the left operand.
        op, left, right = kids[0].data, _node(kids[0].children[0], env), _node(kids[1], env)
        if op in _COMPARE:
            return _compare(left, right, _COMPARE[op])
        if op == "relation_in":
            return _in(left, right)
        if op in _ARITH:
            return _arith(left, right, _ARITH[op], op)
        raise Unsupported(op)
    if kind == "unary" and len(kids) == 2 and isinstance(kids[0], lark.Tree):
        return _unary(kids[0].data, _node(kids[1], env))
    if kind == "paren_expr":
        return _node(kids[0], env)
    if kind == "ident":
        return _ident(str(kids[0]))
    if kind == "literal":
        return _literal(str(kids[0]), env)
    if kind == "list_lit":
        items = [_node(k, env) for k in _children(kids[0])] if kids else []
        return lambda e: [f(e) for f in items]
    if kind == "member_dot":
        return _field(_node(kids[0], env), str(kids[1]))
    if kind == "member_index":
        return _index(_node(kids[0], env), _node(kids[1], env))
    if kind == "member_dot_arg":
        args = [_node(k, env) for k in _children(kids[2])] if len(kids) > 2 else []
        return _method(_node(kids[0], env), str(kids[1]), args)
    if kind == "ident_arg":
        args = [_node(k, env) for k in _children(kids[1])] if len(kids) > 1 else []
        return _function(str(kids[0]), args)
    raise Unsupported(kind)


def _ternary(cond: Fn, yes: Fn, no: Fn) -> Fn:
    def run(e: Env) -> Any:
        c = cond(e)
        if type(c) is not bool:
            raise Defer
        return yes(e) if c else no(e)
    return run


def _logical(left: Fn, right: Fn, is_or: bool) -> Fn:
    # A clean left operand that decides the result short-circuits, as CEL's commutative && and || allow.
    def run(e: Env) -> bool:
        a = left(e)
        if type(a) is not bool:
            raise Defer
        if a is is_or:
            return a
        b = right(e)
        if type(b) is not bool:
            raise Defer
        return b
    return run


def _compare(left: Fn, right: Fn, op: Callable[[Any, Any], bool]) -> Fn:
    def run(e: Env) -> bool:
        a, b = left(e), right(e)
        if type(a) is not type(b) or type(a) not in _SCALARS:
            raise Defer
        return bool(op(a, b))
    return run


def _in(left: Fn, right: Fn) -> Fn:
    def run(e: Env) -> bool:
        needle, haystack = left(e), right(e)
        if type(needle) not in _SCALARS:
            raise Defer
        if type(haystack) is dict:
            if type(needle) is not str:
                raise Defer
            return needle in haystack
        if type(haystack) is not list or any(type(x) is not type(needle) for x in haystack):
            raise Defer
        return needle in haystack
    return run


def _arith(left: Fn, right: Fn, op: Callable[[Any, Any], Any], kind: str) -> Fn:
    allowed = (int, float, str, list) if kind == "addition_add" else (int, float)

    def run(e: Env) -> Any:
        a, b = left(e), right(e)
        if type(a) is not type(b) or type(a) not in allowed:
            raise Defer
        out = op(a, b)
        if type(out) is int and not INT64_MIN <= out <= INT64_MAX:
            raise Defer  # CEL's overflow error
        return out
    return run


def _unary(marker: str, operand: Fn) -> Fn:
    if marker == "unary_not":
        def run_not(e: Env) -> bool:
            v = operand(e)
            if type(v) is not bool:
                raise Defer
            return not v
        return run_not
    if marker == "unary_neg":
        def run_neg(e: Env) -> Any:
            v = operand(e)
            if type(v) not in (int, float) or v == INT64_MIN:
                raise Defer
            return -v
        return run_neg
    raise Unsupported(marker)


def _ident(name: str) -> Fn:
    def run(e: Env) -> Any:
        try:
            value = e[0][name]
        except KeyError:
            raise Defer from None
        if value is None or type(value) in _SCALARS or type(value) in (list, dict):
            return value
        raise Defer
    return run


def _literal(text: str, env: celpy.Environment) -> Fn:
    """Parsed by celpy itself (quotes, escapes, hex), kept when it is a plain bool/int/double/string/null."""
    value = env.program(env.compile(text)).evaluate({})
    native = _NATIVE.get(type(value))
    if value is None:
        return lambda _e: None
    if native is None:
        raise Unsupported(f"literal {text}")
    constant = native(value)
    return lambda _e: constant


def _field(target: Fn, name: str) -> Fn:
    def run(e: Env) -> Any:
        m = target(e)
        if type(m) is not dict or name not in m:
            raise Defer
        return m[name]
    return run


def _index(target: Fn, key: Fn) -> Fn:
    def run(e: Env) -> Any:
        container, k = target(e), key(e)
        if type(container) is dict and type(k) is str and k in container:
            return container[k]
        if type(container) is list and type(k) is int and 0 <= k < len(container):
            return container[k]
        raise Defer
    return run


def _size(v: Any) -> int:
    if type(v) not in (str, list, dict):
        raise Defer
    return len(v)


def _method(target: Fn, name: str, args: list[Fn]) -> Fn:
    if name == "size" and not args:
        return lambda e: _size(target(e))
    method = _STRING_METHODS.get(name)
    if method is None or len(args) != 1:
        raise Unsupported(f"method {name}")
    arg = args[0]

    def run(e: Env) -> bool:
        s, a = target(e), arg(e)
        if type(s) is not str or type(a) is not str:
            raise Defer
        return bool(method(s, a))
    return run


def _function(name: str, args: list[Fn]) -> Fn:
    if name == "size" and len(args) == 1:
        return lambda e: _size(args[0](e))
    if name == "errorRate" and len(args) <= 2:
        window = args[0] if args else (lambda _e: 10)
        status = args[1] if len(args) > 1 else (lambda _e: "any")

        def run(e: Env) -> float:
            w, s = window(e), status(e)
            if type(w) is not int or not (type(s) is int or s == "any"):
                raise Defer
            return float(e[1](w, s))
        return run
    raise Unsupported(f"function {name}")
