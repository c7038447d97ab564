"""Regular expressions of routing conditions, on RE2: linear time in the text, whatever the pattern.

Python's `re` backtracks: `(a+)+$` against forty `a`s and a `!` runs for hours on the event loop.
RE2 (google-re2) never backtracks; the price is that backreferences and lookaround do not compile,
and such a pattern is refused when the rule is saved (see routing.validate_routing).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

# The most text a condition reads (characters): a 5 MB prompt is not scanned in full per rule.
MAX_CONDITION_TEXT = 64 * 1024

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is reported to the user, not printed to stderr


class PatternError(ValueError):
    """RE2 cannot compile the pattern (syntax, backreference, lookaround, too large)."""


@lru_cache(maxsize=512)
def _compile(pattern: str) -> Any:  # a compiled RE2 pattern or the PatternError
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        return PatternError(str(detail))


def pattern_error(pattern: str) -> str | None:
    """Why RE2 refuses `pattern`, or None when it compiles."""
    compiled = _compile(pattern)
    return str(compiled) if isinstance(compiled, PatternError) else None


def search(pattern: str, text: str) -> bool:
    """Does `pattern` occur in `text` (its first MAX_CONDITION_TEXT characters)? A pattern RE2
    refuses never matches."""
    compiled = _compile(pattern)
    if isinstance(compiled, PatternError):
        return False
    return compiled.search(bound_text(text)) is not None


def bound_text(text: str) -> str:
    return text if len(text) <= MAX_CONDITION_TEXT else text[:MAX_CONDITION_TEXT]
