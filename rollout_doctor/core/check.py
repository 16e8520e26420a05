"""Check one file: read it (with the history it inherits, for a fork) and run the rules; no terminal.

``check_file`` judges a file as the client would resume it: a fork or revert branch (thread.py) is
read after its parents' parts, so a defect it inherits is found, and reported with the parent file
and line it lives in. fixer.py repairs, a thread at a time.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rollout_doctor.core.errors import error_message
from rollout_doctor.core.fixes import TOP, Edit, Fix, Op
from rollout_doctor.core.model import Model, read_model
from rollout_doctor.core.reports import FileReport
from rollout_doctor.core.rules import Diagnostic, Options
from rollout_doctor.core.thread import inherited_of

if TYPE_CHECKING:
    from rollout_doctor.core.format import Format, Threads

# What only fixing needs (the store, the client's index, the diff's summaries) is imported there:
# check FILE runs before every resume, and these imports would be a quarter of its time
# (bench/benchmark.py, single).


def open_thread(fmt: Format, path: Path, threads: Threads | None = None) -> Model:
    """The model of ``path`` after the parts of its parents."""
    ancestry = (threads or fmt.threads()).ancestry(path)
    return read_model(fmt, path, inherited_of(ancestry, {}), ancestry.problem, cached=True)


# --- judging -------------------------------------------------------------------------------------------


def check_model(fmt: Format, model: Model, options: Options) -> list[Diagnostic]:
    """Every rule's findings, in line order. For a fork, each is located in the file its line is in, and
    a fix that would have to edit a parent is dropped (the parent's own fix reaches this file)."""
    return judged(fmt, model, options)[0]


def judged(fmt: Format, model: Model, options: Options) -> tuple[list[Diagnostic], object]:
    """``check_model``'s findings, and the context the rules shared (``Format.continuation`` reads it)."""
    ctx = fmt.context(model, options)
    found: list[Diagnostic] = []
    for rule in fmt.rules.active(options):
        found.extend(rule.run(ctx))
    found.sort(key=lambda d: (d.line, d.code, d.call_id or ""))
    if model.own_start == 0:
        return found, ctx
    return [located(model, d) for d in found], ctx


_LINE = re.compile(r"\bline (\d+)\b")


def located(model: Model, d: Diagnostic) -> Diagnostic:
    """``d`` as the reader of the fork's own file sees it: lines numbered in the file they are in (rules
    number them as the model does, parents' lines first), and fixes confined to this file."""
    where, line = model.locate(d.line)
    fix, alternative = own_fix(model, d.fix), own_fix(model, d.alternative)

    parent = model.spans[-2].path if len(model.spans) > 1 else None

    def relabel(match: re.Match[str]) -> str:
        path, local = model.locate(int(match[1]) - 1)
        if path is None:
            return f"line {local + 1}"
        return f"line {local + 1} of the parent" if path == parent else f"line {local + 1} of {path.name}"

    message = _LINE.sub(relabel, d.message)
    if fix is not None:
        fix = Fix(_LINE.sub(relabel, fix.title), fix.applicability, fix.edits)
    if alternative is not None:
        alternative = Fix(_LINE.sub(relabel, alternative.title), alternative.applicability, alternative.edits)
    if where is not None:
        message = f"inherited: {message}"
        if d.fix is not None and fix is None:
            message += " (fixing the parent fixes it here too)"
    return d._replace(line=line, path=where, message=message, fix=fix, alternative=alternative)


def own_fix(model: Model, fix: Fix | None) -> Fix | None:
    """``fix`` if it only edits the file's own lines; an insertion or move anchored in the inherited part
    lands just after the file's first line (its header) when nothing sent stands between the anchor and
    the end of that part, which leaves the order of what the model is sent unchanged. Else None."""
    if fix is None or model.own_start == 0:
        return fix
    start = model.own_start
    edits = []
    for edit in fix.edits:
        if edit.line < start and edit.op is not Op.INSERT:
            return None
        anchor = edit.anchor
        if anchor is not None and anchor < start:
            if anchor == TOP:
                anchor = start - 1  # the top of this file: just before its first line
            elif not any(model.sent(line) for line in range(anchor + 1, start)):
                anchor = start
            else:
                return None
            line = anchor if edit.op is Op.INSERT else edit.line
            edit = Edit(edit.op, line, anchor, edit.content, edit.note)
        edits.append(edit)
    return Fix(fix.title, fix.applicability, tuple(edits))


def check_file(fmt: Format, path: Path, options: Options, read: Callable[[Path], Model] | None = None,
               threads: Threads | None = None, live: str | None = None,
               progress: Callable[[int], None] | None = None) -> FileReport:
    """Check one file. ``read`` builds its model (rollout_doctor.core.parallel passes one that puts
    together ranges indexed by several workers); by default the file is read with the history it
    inherits. ``live`` names the running client holding it: the turn it is writing is not judged."""
    from rollout_doctor.core import cache_files, heap

    cacheable = read is None and live is None and cache_files.folder() is not None
    if cacheable:
        from rollout_doctor.core import report_cache

        cached = report_cache.recall(fmt, path, options)
        if cached is not None:
            return cached
        started = time.time()  # before the file is looked at: what makes a report racy (sampling.racy)
        before, inputs = _stat(path), report_cache.inputs_of(fmt, path)
    report = FileReport(path, in_progress=live)
    try:
        ancestry = None
        if read is None:
            heap.lean_for(path)
            ancestry = (threads or fmt.threads()).ancestry(path)
            model = read_model(fmt, path, inherited_of(ancestry, {}), ancestry.problem, progress, cached=True)
        else:
            model = read(path)
        with model:
            report.generation = model.generation
            report.cli_version = model.cli_version
            report.thread = fmt.thread_info(model, ancestry)
            report.session, report.effects = fmt.describe_session(path, model), fmt.rules.effects
            report.format = fmt.name
            effective = fmt.decide(options, model)
            report.target = effective.target
            report.diagnostics, ctx = judged(fmt, model, effective)
            if live is not None:
                report.diagnostics = settled(fmt, model, report.diagnostics)
            state = _continuation(fmt, ctx) if cacheable else None
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop a scan of many
        report.error = error_message(path, exc)
        return report
    if cacheable and before is not None and ancestry is not None and not ancestry.parents and ancestry.problem is None:
        report_cache.store(fmt, path, options, report, started, before, inputs, state)
    return report


def _continuation(fmt: Format, ctx: object) -> object | None:
    """What a later check needs to judge only the lines appended by then (report_cache.continued). Only
    a saving: should the format fail to make it, the report stands and the next check is a full one
    (tests/test_continuation.py counts the files continued, so such a failure does not go unseen)."""
    try:
        return fmt.continuation(ctx)
    except Exception:  # noqa: BLE001 - see the docstring
        return None


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def settled(fmt: Format, model: Model, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """The problems of a session a running client is writing, less what its current turn has in flight:
    a call still waiting for its output, a message typed while it waits, a last line still being written."""
    turn = fmt.current_turn_start(model)
    last = len(model) - 1 - model.own_start
    out = []
    for d in diagnostics:
        own = d.path is None
        if own and d.rule in fmt.in_flight_rules and d.line + model.own_start >= turn:
            continue
        if own and d.rule == fmt.torn_line_rule and d.line == last and model.terminator(len(model) - 1) == b"":
            continue
        out.append(d)
    return out
