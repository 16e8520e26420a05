"""Fix files a thread at a time: the forks a fix reaches, and one transaction per thread.

A thread spans files (thread.py). A file is fixed with the history it inherits, and only its own lines
are edited (fix_loop.py). When a fix changes a file before the point where a fork or a revert branch
continues it (its cut), that child is rewritten in the same transaction (store/): its pointer into the
parent follows the record it pointed at (cuts.py gives the new cut; the format's rule writes it) and
its ordinals continue from there. A fix that would carry a line across a child's cut is held back,
since no rewrite then keeps both histories; a transaction that would give a child it was not asked to
fix a problem the child does not have now is refused (exit 3), and nothing is written.

Padding edits to the same length, so that no child's byte offsets move (the approach of another repair
tool), was weighed: it cannot express the repairs that matter most (an inserted output, a moved
message) and it keeps ordinals wrong, so children are rewritten instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rollout_doctor.core import heap
from rollout_doctor.core.check import check_model, open_thread
from rollout_doctor.core.cuts import cut_line, moved_cut
from rollout_doctor.core.errors import error_message
from rollout_doctor.core.fix_commit import commit_thread, complete_interrupted  # noqa: F401 - callers take it from here
from rollout_doctor.core.fix_loop import Loop, held, run_loop
from rollout_doctor.core.fixes import applicable
from rollout_doctor.core.hashed_read import read_hashed
from rollout_doctor.core.interpreter import set_for_fixing
from rollout_doctor.core.model import Model, read_model
from rollout_doctor.core.reports import FileReport
from rollout_doctor.core.rules import Diagnostic, Options
from rollout_doctor.core.thread import Cut, Inherited, inherited_of

if TYPE_CHECKING:
    from concurrent.futures import Future

    from rollout_doctor.core.format import Format, Threads
    from rollout_doctor.store.staging import Staged


@dataclass
class Member:
    path: Path
    real: Path
    depth: int
    role: str  # "requested" or "child"
    report: FileReport
    loop: Loop | None = None
    before: object | None = None  # store.FileState when it will be written
    ahead: Future[Staged] | None = None  # its backup copy, made while the fix is worked out
    inherited: list[Inherited] = field(default_factory=list)
    child_cuts: dict[Path, Inherited] = field(default_factory=dict)  # real child path -> its new inherited part


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # the file's own report says why


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


@dataclass
class Run:
    """What every file of one run is fixed with."""

    fmt: Format
    threads: Threads
    options: Options
    dry_run: bool = False
    want_diff: bool = True
    force: bool = False


class ThreadFix:
    """Fixing the requested files of one thread (a root and its forks), and the children their fixes
    reach; committed as one transaction."""

    def __init__(self, run: Run, workdir: Path) -> None:
        self.run_ = run
        self.fmt, self.threads, self.options = run.fmt, run.threads, run.options
        self.workdir = workdir
        self.members: dict[Path, Member] = {}
        self.refused: str | None = None

    def add(self, path: Path, role: str) -> Member:
        real = _real(path)
        if real not in self.members:
            depth = len(self.threads.ancestry(path).segments)
            self.members[real] = Member(path, real, depth, role, FileReport(path, role=role))
        return self.members[real]

    def run(self) -> list[Member]:
        done: set[Path] = set()
        while True:
            todo = [m for m in self.members.values() if m.real not in done]
            if not todo:
                break
            member = min(todo, key=lambda m: m.depth)
            done.add(member.real)
            try:
                self._plan(member)
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop a run over many
                member.report.error = error_message(member.path, exc)
                if member.role == "child" or any(c.role == "child" for c in self._children_planned(member)):
                    self.refused = self.refused or f"{member.path}: {member.report.error}"
        return list(self.members.values())

    def _children_planned(self, member: Member) -> list[Member]:
        return [m for m in self.members.values() if m.depth > member.depth]

    def _overrides(self) -> dict[Path, tuple[Path, dict[Path, Inherited]]]:
        return {m.real: (m.loop.current.path, m.child_cuts) for m in self.members.values()
                if m.loop is not None and m.loop.written}

    def _child_cuts(self, member: Member, original: Model) -> dict[Path, tuple[int, Cut]]:
        """Each child's cut into this file, with the file's first line after it."""
        cuts = {}
        for child in self.threads.children(member.path):
            cut = self.threads.declared_cut(child)
            line = cut_line(original, cut.end_byte_offset) if cut is not None else None
            if cut is not None and line is not None:
                cuts[_real(child)] = (line - original.own_start, cut)
        return cuts

    def _read_original(self, member: Member, chain_problem: str | None) -> Model:
        if self.run_.dry_run:
            original = read_model(self.fmt, member.path, member.inherited, chain_problem, cached=True)
        else:
            # What a fix writes is cut from the original by the offsets of its index: that index is read
            # from the bytes themselves, beside their hash, never taken from the cache, whose sample
            # cannot see every rewrite (index_cache.py). A huge file's freed block buffers are given
            # back as it is read (heap.Trimming: 9 MiB of the index's peak on a gigabyte).
            trimming = heap.trimming_for(member.real)
            member.before, original = read_hashed(
                member.path, lambda: read_model(self.fmt, member.path, member.inherited, chain_problem,
                                                progress=trimming))
            if trimming is not None:
                trimming.done()
        # A huge file's passes give back what each frees (heap.py): the new index, its arrays and its
        # table are megabytes each, made and freed a pass at a time. Only once the original is indexed:
        # the index's block buffers would pay page faults for nothing (0.5 s of a 1 GB fix), and what a
        # pass frees is what stayed in the heap (17 MiB of its peak).
        heap.lean_for(member.real)
        return original

    def _plan(self, member: Member) -> None:
        report, fmt = member.report, self.fmt
        ancestry = self.threads.ancestry(member.path)
        member.inherited = inherited_of(ancestry, self._overrides())
        original = self._read_original(member, ancestry.problem)
        report.generation, report.cli_version = original.generation, original.cli_version
        report.thread = fmt.thread_info(original, ancestry)
        report.session, report.effects = fmt.describe_session(member.path, original), fmt.rules.effects
        report.format = fmt.name
        options = fmt.decide(self.options, original)
        report.target = options.target
        cuts = self._child_cuts(member, original)
        tag = f"{len(self.members)}-{member.depth}-{abs(hash(member.real)) % 10**8}"
        first_cut = original.declared_cut()

        def read(path: Path) -> Model:
            """A pass's file with the history it inherits: where its pointer into its parent now points,
            once a fix has moved it."""
            inherited = member.inherited
            cut = fmt.declared_cut(path)
            if inherited and cut is not None and cut != first_cut:
                last = inherited[-1]
                inherited = [*inherited[:-1], Inherited(last.shown, cut, last.read)]
            return read_model(fmt, path, inherited, ancestry.problem)

        try:
            report.diagnostics = check_model(fmt, original, options)
            if not self.run_.dry_run and any(applicable(d.fix, options.unsafe_fixes) for d in report.diagnostics):
                from rollout_doctor.store.staging import start_copy

                # The backup the commit will need, copied, synced and hashed on the other core while
                # the passes are worked out (most of a big fix's commit, else).
                member.ahead = start_copy(member.real)
            loop = run_loop(fmt, original, read, options, self.workdir, tag,
                            sorted({line for line, _ in cuts.values()}), self.run_.want_diff, report.diagnostics)
        except BaseException:
            original.close()
            raise
        member.loop = loop
        report.applied, report.remaining, report.passes = loop.applied, loop.remaining, loop.passes
        if loop.written:
            reason = held(loop, options)
            if reason is not None:
                report.held = reason
                report.remaining, report.applied = report.diagnostics, []
                loop.written = False
                return
            if self.run_.want_diff and loop.original is not None:
                from rollout_doctor.core.diff import diff

                report.changes = diff(loop.original, loop.current, loop.provenance, loop.notes)
        if loop.written:
            self._follow_children(member, loop, cuts)

    def _follow_children(self, member: Member, loop: Loop, cuts: dict[Path, tuple[int, Cut]]) -> None:
        for child, (line, old) in cuts.items():
            moved = moved_cut(loop, line, old)
            if moved.problem is not None:
                self.refused = self.refused or f"{member.path}: {moved.problem} ({child})"
                continue
            if moved.changed and moved.cut is not None:
                member.child_cuts[child] = Inherited(member.path, moved.cut, loop.current.path)
                known = self.members.get(child)
                self.add(child, "child" if known is None else known.role)

    def validate(self) -> str | None:
        """Why the transaction must not be written: a child not asked about would get a new problem."""
        if self.refused is not None:
            return self.refused
        for member in self.members.values():
            if member.role != "child" or member.loop is None:
                continue
            before = self._keys(self._unchanged_check(member))
            after = self._keys(member.loop.remaining)
            new = sorted(after - before)
            if new:
                rule, call = new[0]
                return (f"fixing its parent would give {member.path} (not asked about) a problem it does not have "
                        f"now: {rule}{f' for {call}' if call else ''}; fix both together (`rollout-doctor fix` on "
                        "the folder) or neither")
        return None

    def _unchanged_check(self, member: Member) -> list[Diagnostic]:
        with open_thread(self.fmt, member.path, self.threads) as model:
            return check_model(self.fmt, model, self.fmt.decide(self.options, model))

    def _keys(self, diagnostics: Iterable[Diagnostic]) -> set[tuple[str, str]]:
        return {(d.rule, d.call_id or "") for d in diagnostics if not self.fmt.rules.lookup(d.rule).follows_parent}


# --- many files ----------------------------------------------------------------------------------------


def fix_files(fmt: Format, paths: list[Path], options: Options, dry_run: bool = False, want_diff: bool = True,
              force: bool = False) -> Iterator[FileReport]:
    """Fix each file, a thread at a time (the files that share a root, in the order first met); yields a
    report per file asked about as soon as its thread is done, and one per child its fix rewrote."""
    from rollout_doctor.store import signals

    run = Run(fmt, fmt.threads(), options, dry_run, want_diff, force)
    fmt.lines.expect(sum(_size(path) for path in paths))  # a fast path pays for itself over all of them
    families: dict[Path, list[Path]] = {}
    seen: set[Path] = set()
    for path in paths:
        real = _real(path)
        if real in seen:
            continue
        seen.add(real)
        families.setdefault(_real(run.threads.ancestry(path).segments[0].path), []).append(path)
    for family in families.values():
        yield from _fix_family(run, family)
        if signals.pending():
            return


def fix_file(fmt: Format, path: Path, options: Options, dry_run: bool = False, want_diff: bool = True,
             force: bool = False) -> FileReport:
    """Fix one file (and, in the same transaction, the forks whose history its fix changes)."""
    return next(iter(fix_files(fmt, [path], options, dry_run=dry_run, want_diff=want_diff, force=force)))


def _fix_and_commit(run: Run, fix: ThreadFix) -> list[Member]:
    """Fix a thread's files and commit them as one transaction, unless a child would be harmed (the
    interpreter set for it meanwhile: interpreter.py)."""
    with set_for_fixing():
        members = fix.run()
        written = [m for m in members if m.loop is not None and m.loop.written and m.report.error is None]
        refused = fix.validate() if written else None
        if refused is not None:
            for member in members:
                member.report.refused = refused if member.loop is not None else member.report.refused
                member.report.remaining = member.report.diagnostics
                member.report.applied = []
        elif written and not run.dry_run:
            commit_thread(run.fmt, written, run.force)
        return members


def _fix_family(run: Run, family: list[Path]) -> Iterator[FileReport]:
    from rollout_doctor.store.tempfiles import scratch_dir

    workdir = scratch_dir("fix")
    fix = ThreadFix(run, workdir)
    try:
        for path in family:
            fix.add(path, "requested")
        members = _fix_and_commit(run, fix)
        for member in members:  # its passes go before its reports are shown (rich: 6 MiB on top, else)
            if member.loop is not None:
                member.loop.close()
                member.loop = None
        heap.give_back()
        for member in members:
            if member.role == "requested" or member.report.written or member.report.refused or member.report.changes:
                yield member.report
    finally:
        from rollout_doctor.store.staging import discard

        for member in fix.members.values():
            if member.loop is not None:
                member.loop.close()
            discard(member.ahead)  # a copy no transaction took (one it took is in its folder now)
        shutil.rmtree(workdir, ignore_errors=True)
