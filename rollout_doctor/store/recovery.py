"""Completing what a killed run left half-done: a transaction rolled forward or back, an undo finished.

See store/__init__.py for what a crash at each step leaves."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rollout_doctor.store import signals, tempfiles
from rollout_doctor.store.copies import current_sha, sha256_of
from rollout_doctor.store.files import RefusedToWrite, WriteError, replace_checked
from rollout_doctor.store.journal import (
    ABANDONED,
    COMMITTED,
    PREPARED,
    RESTORED,
    RESTORING,
    ROLLED_BACK,
    Journal,
    path_text,
)
from rollout_doctor.store.journal_reader import scan, unfinished
from rollout_doctor.store.location import backup_root
from rollout_doctor.store.putback import restore_entry
from rollout_doctor.store.state import FileState
from rollout_doctor.store.transaction import discard


@dataclass(frozen=True)
class Recovered:
    journal: Journal
    outcome: str  # "committed", "rolled back", "restored", "abandoned", or why it was left alone
    # Files whose bytes differ from what Codex last saw of them: every file of a transaction that got as
    # far as replacing one (the killed run never told the client; Format.after_recover does).
    changed: list[Path] = field(default_factory=list)


def recover(alive: Callable[[int], bool] = tempfiles.pid_alive, everything: bool = False) -> list[Recovered]:
    """Complete every transaction a killed run left half-done: one all of whose files hold their new
    bytes is recorded as committed; one that replaced some is rolled forward from its temporary files
    when they are all still there, else back from its copies; an undo cut short is finished. A file
    that changed since (Codex appended to it) is left alone and reported.

    Only the transactions marked unfinished are read, unless ``everything`` (undo reads the whole store
    anyway, and so also completes an earlier release's pending manifest)."""
    out: list[Recovered] = []
    try:
        root = backup_root()
    except WriteError:
        return out
    found = scan(root) if everything else unfinished(root)
    for journal in found:
        if not isinstance(journal, Journal):
            continue
        if journal.state not in (PREPARED, RESTORING):
            continue
        if journal.pid and journal.pid != os.getpid() and alive(journal.pid):
            continue  # another run is in the middle of it
        try:
            out.append(complete(journal))
        except (OSError, RefusedToWrite, WriteError) as exc:
            out.append(Recovered(journal, f"left as it is: {exc}"))
    return out


def complete(journal: Journal) -> Recovered:
    shas = [current_sha(e.path) for e in journal.entries]
    before = [sha == e.sha256_before for sha, e in zip(shas, journal.entries)]
    after = [sha == e.sha256_after for sha, e in zip(shas, journal.entries)]
    strange = [path_text(e.path) for e, b, a in zip(journal.entries, before, after) if not (b or a)]
    if strange:
        return Recovered(journal, "left as it is: changed since the interrupted run: " + ", ".join(strange)
                         + f" (its backup, the bytes from before that run, is in {journal.folder})")
    every = [e.path for e in journal.entries]
    if journal.state == RESTORING:
        with signals.deferred():
            for entry, done in zip(journal.entries, before):
                if not done:
                    restore_entry(journal, entry, FileState.of(entry.path), force=False)
            journal.state = RESTORED
            journal.save()
        return Recovered(journal, "restored", every)
    if all(after):
        journal.state = COMMITTED
        drop_temps(journal)
        journal.save()
        return Recovered(journal, "committed", every)
    if all(before):
        drop_temps(journal)
        journal.state = ABANDONED
        discard(journal.folder)
        return Recovered(journal, "abandoned")
    pending = [e for e, done in zip(journal.entries, after) if not done]
    temps = {e.path: e.path.parent / e.tmp for e in pending if e.tmp}
    with signals.deferred():
        if len(temps) == len(pending) and all(t.is_file() and sha256_of(t) == e.sha256_after
                                              for e, t in zip(pending, temps.values())):
            for entry in pending:
                replace_checked(entry.path, temps[entry.path], FileState.of(entry.path))
            journal.state = COMMITTED
            outcome = "committed"
        else:
            for entry, done in zip(journal.entries, after):
                if done:
                    restore_entry(journal, entry, FileState.of(entry.path), force=False)
            journal.state = ROLLED_BACK
            outcome = "rolled back"
        drop_temps(journal)
        journal.save()
    return Recovered(journal, outcome, every)


def drop_temps(journal: Journal) -> None:
    for entry in journal.entries:
        if entry.tmp:
            (entry.path.parent / entry.tmp).unlink(missing_ok=True)
            entry.tmp = None
