"""``undo --list``: the backups grouped by run (one invocation of ``fix`` or ``guard``), with the space the
store takes; ``undo --prune DAYS`` and ``undo --prune-keep N``: removing the old ones."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rollout_doctor.core.exitcodes import CLEAN

if TYPE_CHECKING:
    from rich.console import Console

    from rollout_doctor.store.journal import Journal
    from rollout_doctor.store.runs import Run


def list_backups(what: str | None, last_run: bool, out: Console, err: Console) -> int:
    """Every run (or those that wrote WHAT, or the last one), oldest first, each transaction under it."""
    from rich.markup import escape

    from rollout_doctor.cli.commands import undo_targets
    from rollout_doctor.store import backups
    from rollout_doctor.store.location import backup_root
    from rollout_doctor.store.runs import group

    every, bad = backups.journals()
    shown = undo_targets.find(what, last_run).journals if what or last_run else every
    runs = group(shown)
    if not runs and not bad:
        out.print("no backups" + (f" for {escape(what)}" if what else ""))
    last = undo_targets.next_run(group(every))
    for run in runs:
        out.print(run_line(run, last is not None and run.id == last.id))
        for journal in run.journals:
            out.print("  " + journal_line(journal, next_undo_of(every)))
    for unreadable in bad:
        err.print(f"rollout-doctor: unusable backup: {escape(unreadable.reason)}")
    out.print(f"{len(group(every))} run(s), {len(every)} transaction(s): {human_size(backups.size())} in "
              f"{escape(str(backup_root()))}")
    return CLEAN


def run_line(run: Run, next_run: bool) -> str:
    from rich.markup import escape

    from rollout_doctor.store.journal import COMMITTED

    files = len({e.path for j in run.journals for e in j.entries})
    pending = any(j.state == COMMITTED for j in run.journals)
    label = run_state(run) + (", by the next `undo --last-run`" if next_run and pending else "")
    return f"[bold]run {escape(run.id)}[/]  {escape(run.command)}  {escape(run.created)}  {files} file(s)  ({label})"


def run_state(run: Run) -> str:
    """A run's state in words of its own ("undone"), so that a transaction's ("restored") stay its own."""
    from rollout_doctor.store.backups import describe_state
    from rollout_doctor.store.journal import COMMITTED, RESTORED

    states = {j.state for j in run.journals}
    words = {frozenset({COMMITTED}): "can be undone", frozenset({RESTORED}): "undone",
             frozenset({COMMITTED, RESTORED}): "partly undone"}
    return words.get(frozenset(states)) or ", ".join(sorted({describe_state(j) for j in run.journals}))


def next_undo_of(journals: list[Journal]) -> set[str]:
    """The transactions the next ``undo FILE`` restores: the newest committed one of each file."""
    from rollout_doctor.store.journal import COMMITTED

    newest = {e.path: j for j in journals if j.state == COMMITTED for e in j.entries}
    return {j.id for j in newest.values()}


def journal_line(journal: Journal, next_undo: set[str]) -> str:
    from rich.markup import escape

    from rollout_doctor.store.backups import describe_state

    label = describe_state(journal) + (", by the next undo" if journal.id in next_undo else "")
    files = ", ".join(escape(str(e.path)) for e in journal.entries)
    entry = journal.entries[0]
    return (f"{journal.created}  {files}  ({label}; {entry.size_before} bytes, sha256 {entry.sha256_before[:12]}… "
            f"before the fix, {entry.size_after} bytes, sha256 {entry.sha256_after[:12]}… after; "
            f"{escape(str(journal.folder))})")


def prune_backups(days: float | None, keep: int | None, out: Console) -> int:
    """Remove finished runs' backups: older than ``days``, or beyond the newest ``keep`` runs (both given:
    either)."""
    from rich.markup import escape

    from rollout_doctor.cli.options import UsageError
    from rollout_doctor.store import backups

    if (days is not None and days < 0) or (keep is not None and keep < 0):
        raise UsageError("--prune and --prune-keep take a number of days or runs, not a negative one")
    before = backups.size()
    gone = backups.prune(older_than_days=days, keep=keep)
    for journal in gone:
        out.print(f"removed {escape(str(journal.folder))} (run {escape(journal.run_id)}, {escape(journal.created)}; "
                  f"{', '.join(escape(str(e.path)) for e in journal.entries)})")
    left = backups.size()
    out.print(f"{len(gone)} backup(s) removed, {human_size(before - left)} freed; {human_size(left)} left")
    return CLEAN


def human_size(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    scaled = float(size)
    for unit in ("kB", "MB", "GB"):
        scaled /= 1000
        if scaled < 1000:
            break
    return f"{scaled:.1f} {unit}"
