"""What a new password must be: at least 12 characters, and not a common one.

Common means in the 30,000 most used passwords of leaked lists, or guessable in few tries by zxcvbn's
pattern matching (keyboard walks, repeats, dictionary words with digits). Both come packaged with the
`zxcvbn` library: nothing is downloaded at run time.
"""

from __future__ import annotations

from functools import lru_cache

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MAX_LENGTH = 256
# zxcvbn's score: 0-1 fall to an online attack in well under a day; 2+ need 10^6+ guesses.
MIN_SCORE = 2
# zxcvbn's matching grows faster than linearly with length; its first 100 characters decide.
_SCORED_PREFIX = 100


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str) -> str | None:
    """Why `password` is refused, as a sentence for the user; None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Passwords need at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"Passwords can have at most {MAX_LENGTH} characters"
    if password.lower() in _common():
        return "This password is one of the most common passwords; choose another"
    result = zxcvbn(password[:_SCORED_PREFIX])
    if result["score"] < MIN_SCORE:
        hint = result["feedback"].get("warning") or "it follows a pattern that is quick to guess"
        return f"This password is too easy to guess ({hint.rstrip('.')}); choose a longer or less common one"
    return None
