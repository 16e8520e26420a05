"""What a problem does when the client resumes the session, and what that makes of the session.

A format names the effects its rules' defects can have (its vocabulary, worst first: Codex's are in
formats/codex/rules/base.py), and each rule declares the effect of what it finds (``EFFECT``, refined
per diagnostic when the case decides it). A session's verdict is the worst effect among its problems;
with none it resumes. A session that could not be judged (its file unreadable, or the history it
inherits unknown) is never given a clean verdict: it is ``unknown``, unless a problem already says it
will not resume.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple


class Effect(NamedTuple):
    """One effect of a format's vocabulary, or a verdict."""

    name: str  # stable: the JSON report and rule metadata use it
    stops_resume: bool  # the session does not resume until the problem is fixed
    says: str  # the verdict as a person reads it


RESUMES = Effect("resumes", False, "resumes")
UNKNOWN = Effect("unknown", False, "could not be judged")
VERDICT_NAMES = (RESUMES.name, UNKNOWN.name)  # verdicts no format may use as an effect name


def worst(effects: Sequence[Effect], names: Iterable[str | None]) -> Effect | None:
    """The worst of ``names`` in the vocabulary ``effects`` (worst first); None when there are none.
    A name the vocabulary lacks counts as the worst: a verdict must never be milder than the truth."""
    rank = {effect.name: n for n, effect in enumerate(effects)}
    found: Effect | None = None
    for name in names:
        at = rank.get(name or "", -1)
        if at < 0:
            return effects[0] if effects else UNKNOWN
        if found is None or at < rank[found.name]:
            found = effects[at]
    return found


def verdict(effects: Sequence[Effect], problems: Iterable[str | None], judged: bool = True) -> Effect:
    """The session's verdict from the effects of its problems. ``judged`` is False when the file could
    not be read or the history it inherits is unknown."""
    found = worst(effects, problems)
    if found is not None and (found.stops_resume or judged):
        return found
    return RESUMES if judged else UNKNOWN
