"""How deep a parsed JSON value nests, without recursion (a hostile value must not hit Python's limit)."""

from __future__ import annotations

from typing import Any


def json_depth(value: Any) -> int:
    """Levels of arrays/objects: `1` → 0, `{}` → 1, `{"a": [1]}` → 2."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest
