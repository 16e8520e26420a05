"""A fork or revert branch whose ``history_base`` no longer points at its parent's history.

What it checks: a rollout whose ``session_meta`` carries ``history_base`` (a fork written by
``codex exec fork`` or ``/fork``, 0.169.0 and 0.171.0; a ``thread/revert`` branch, 0.171.0) continues
its parent's records up to a cut: ``end_byte_offset`` and ``end_ordinal_exclusive``. The parent must
be found (by the rollout id in ``thread_id``, under ``sessions/`` or ``archived_sessions/``), the cut
must lie within it, at the end of a line, and the ordinal must be the one after the last record
before that byte: Codex wrote all three together.

Why it breaks a resume: Codex 0.169.0 and 0.171.0 refuse to resume the session at all when the parent
is missing ("invalid paginated history lineage …: missing source rollout"), when the cut lies past the
parent's end ("cutoff byte offset is past the source rollout": what a repair of the parent that
shortened it before the cut does, seen in the field and with rollout-doctor before 0.2) or when its
ordinal is 0 ("cutoff cannot include source session metadata"). The byte offset decides what the
model is sent; an offset inside a line drops that line, and an ordinal that disagrees with the bytes
leaves Codex's thread-history projection skipping records.

Effect on a resume: refused for a missing parent, a cut past the parent's end or at ordinal 0 (0.169.0
and 0.171.0, ``tests/test_e2e_threads.py`` and docs/codex-facts.md, "Threads that span files"). A cut
inside a line drops that line (both resumed, with no warning): dropped. An ordinal that disagrees with
the bytes changes nothing the model is sent (the byte offset decides): harmless.

Example::

    {"timestamp":"…","ordinal":29,"type":"session_meta","payload":{"id":"…","history_mode":"paginated",
     "history_base":{"thread_id":"<parent>","end_ordinal_exclusive":29,"end_byte_offset":23453},…}}

with a parent file now only 23 400 bytes long.

Fix (safe): when the cut lies inside the parent but off the line or ordinal boundary, set both to the
boundary the bytes name (the history the model is sent does not change). ``fix`` also keeps every
child's ``history_base`` pointing at the same record when it rewrites a parent (the whole thread is
one transaction). Unsafe: when the offset lies past the parent's end, point it at the record the
ordinal names; if the parent was edited since the fork, that may not be the record the fork
continued from. A missing parent, a malformed ``history_base`` or an ordinal of 0 have no fix.
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.core import jsonspan
from rollout_doctor.core.fixes import Applicability, Edit, Fix
from rollout_doctor.core.model import Link
from rollout_doctor.formats.codex.records import HistoryBase
from rollout_doctor.formats.codex.rollout import Rollout
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic, found

CODE = "RD205"
NAME = "history-base"
SUMMARY = "a fork or revert branch whose history_base does not point at its parent's history"
FIX_SAFETY = ("safe: moves the cut to the line and ordinal boundary its bytes name; unsafe: to the record its "
              "ordinal names when the offset is past the parent's end")
PHASE = 0  # the cut decides which history the other rules judge
FOLLOWS_PARENT = True  # a child rewritten with its parent gets its new cut from this rule
CATEGORY = "structure"
EFFECT = "refused"
GENERATIONS = ("paginated",)  # forks and revert branches exist since 0.169.0, which paginates


def check(ctx: Context) -> Iterator[Diagnostic]:
    model = ctx.model
    meta = model.meta
    base = meta.history_base if meta is not None else None
    if meta is None or base is None:
        return
    if base.problem is not None:
        yield found(meta.line, f"session_meta: {base.problem}; Codex cannot resume the session")
        return
    if model.chain_problem is not None:
        yield found(meta.line, f"this session continues another one, but {model.chain_problem}; "
                               "Codex refuses to resume it (missing source rollout)")
        return
    if not model.links:
        return
    for link in model.links[:-1]:
        if link.problem is not None:
            yield found(meta.line, f"the history it inherits is broken further up the chain: "
                                   f"{link.problem}; fix that file first")
            return
    link = model.links[-1]
    if link.problem is not None:
        yield found(meta.line, f"{link.problem}; Codex refuses to resume the session",
                    fix=_by_ordinal(model, link))
        return
    if link.last_ordinal is None:
        yield found(meta.line, f"{link.parent} has no paginated record before the cut; Codex "
                               "refuses to resume the session (source rollout is not paginated)")
        return
    want = (link.end, link.last_ordinal + 1)
    if (base.end_byte_offset, base.end_ordinal_exclusive) != want:
        fix = _retarget(model, *want, title=f"set history_base to byte {want[0]}, ordinal {want[1]}",
                        applicability=Applicability.SAFE)
        message, effect = _cut_problem(link, base, want)
        yield found(meta.line, message, fix=fix, effect=effect)


def _cut_problem(link: Link, base: HistoryBase, want: tuple[int, int]) -> tuple[str, str | None]:
    """Why a readable cut ``base`` is not where the parent's records end (``want``: byte, ordinal), and
    what that does to a resume when it is not the rule's EFFECT."""
    if link.end != base.end_byte_offset and link.cut.end_byte_offset == base.end_byte_offset:
        return (f"history_base ends at byte {base.end_byte_offset} of the parent, inside a line (the parent "
                "changed after the fork, or the cut was written mid-line); Codex drops that partial line"), "dropped"
    if link.cut.end_byte_offset == base.end_byte_offset:
        return (f"history_base says the inherited history ends before ordinal {base.end_ordinal_exclusive}, "
                f"but the parent's records before byte {link.end} end at ordinal {link.last_ordinal}"), "harmless"
    return (f"history_base points at byte {base.end_byte_offset}, ordinal {base.end_ordinal_exclusive} of "
            f"the parent, which is being rewritten: the same record will end at byte {want[0]}, ordinal "
            f"{want[1] - 1}"), None


def _retarget(model: Rollout, offset: int, ordinal: int, title: str, applicability: Applicability) -> Fix | None:
    """A REPLACE of the session_meta line with history_base (and forked_from_ordinal_exclusive, which
    0.169.0 and 0.171.0 write equal to it) pointing at ``offset`` and ``ordinal``; other bytes kept."""
    meta = model.meta
    assert meta is not None and meta.history_base is not None
    content = model.content(meta.line)
    payload: tuple[str, ...] = ("payload",)
    if jsonspan.span(content, ("payload", "history_base")) is None:
        payload = ("payload", "meta")
    for key, value in (("end_byte_offset", offset), ("end_ordinal_exclusive", ordinal)):
        replaced = jsonspan.replace(content, (*payload, "history_base", key), str(value).encode())
        if replaced is None:
            return None
        content = replaced
    forked = jsonspan.span(content, (*payload, "forked_from_ordinal_exclusive"))
    if forked is not None and content[forked[0]:forked[1]] == str(meta.history_base.end_ordinal_exclusive).encode():
        content = content[: forked[0]] + str(ordinal).encode() + content[forked[1]:]
    return Fix(title, applicability, (Edit.replace(meta.line, content, "history_base retargeted"),))


def _by_ordinal(model: Rollout, link: Link) -> Fix | None:
    """For a cut past the parent's end: where the parent's record with the cut's ordinal starts, or the
    parent's end when it no longer reaches that ordinal (unsafe: if the parent was edited since the
    fork, neither need be the record the fork continued from)."""
    if link.cut.end_byte_offset <= link.parent_size or link.cut.end_ordinal_exclusive <= 0:
        return None
    from rollout_doctor.formats.codex.rollout import read_rollout

    try:
        with read_rollout(link.parent) as parent:
            wanted = link.cut.end_ordinal_exclusive
            boundary = next((parent.offsets[line] for line in range(len(parent)) if parent.ordinals[line] >= wanted),
                            None)
            if boundary is None:
                boundary, wanted = parent.size, max(parent.ordinals, default=-1) + 1
            complete = boundary == 0 or parent.source.read(boundary - 1, 1) == b"\n"
    except OSError:
        return None
    if boundary == 0 or wanted <= 0 or not complete:
        return None
    return _retarget(model, boundary, wanted, title=f"set history_base to byte {boundary}, ordinal {wanted} of the "
                                                    "parent", applicability=Applicability.UNSAFE)
