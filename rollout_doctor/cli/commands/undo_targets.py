"""What ``undo`` is asked about, as the backup store's transactions: a rollout, a folder, a session id (or
a unique prefix of one), or the last run of ``fix`` or ``guard``.

A word that is no existing path but reads as a session id is looked up as ``codex resume`` finds a
session (formats/codex/sessions.py): in ``sessions/`` and ``archived_sessions/``, every file of the
thread (a revert branch's too). A session no longer there is still found in the backups by the thread id
in its files' names.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from rollout_doctor.cli.options import UsageError

if TYPE_CHECKING:
    from rollout_doctor.store.journal import Journal
    from rollout_doctor.store.runs import Run


class Target(NamedTuple):
    kind: str  # "file", "folder", "session" or "run"
    label: str  # how the report names it
    journals: list[Journal]  # every transaction that wrote it, oldest first, whatever its state
    via: list[Path]  # where its files are now, for a client that moved them since (Codex archiving)

    @property
    def everything(self) -> bool:
        """Undo restores every committed transaction of a folder or a run; of a file or a session, the
        newest (the next undo the one before it: repeated, undo steps back as an editor's does)."""
        return self.kind in ("folder", "run")

    def to_restore(self) -> list[Journal]:
        """What ``undo`` puts back, newest first."""
        from rollout_doctor.store.journal import COMMITTED

        committed = [j for j in reversed(self.journals) if j.state == COMMITTED]
        return committed if self.everything else committed[:1]


def find(what: str | None, last_run: bool) -> Target:
    """The target ``undo WHAT`` or ``undo --last-run`` names; UsageError or LookupError when none."""
    if bool(what) == last_run:
        raise UsageError("give what to restore (a rollout, a folder or a session id), or --last-run (one of them)")
    if last_run:
        return newest_run()
    assert what is not None
    path = Path(os.path.expanduser(what))
    if path.is_dir():
        return folder(path)
    from rollout_doctor.formats.codex.sessions import is_id_prefix

    if os.path.lexists(path) or not is_id_prefix(what):
        return rollout(path)
    return session(what)


def rollout(path: Path) -> Target:
    from rollout_doctor.store.backups import journals_of

    return Target("file", str(path), journals_of(path), [path])


def folder(path: Path) -> Target:
    from rollout_doctor.store.backups import journals_under

    return Target("folder", f"folder {path}", journals_under(path), [])


def next_run(runs: list[Run]) -> Run | None:
    """The run ``undo --last-run`` restores: the newest with something left to undo (after an undo of it,
    the one before), else the newest; None when there is none."""
    from rollout_doctor.store.journal import COMMITTED

    pending = [r for r in runs if any(j.state == COMMITTED for j in r.journals)]
    return pending[-1] if pending else runs[-1] if runs else None


def newest_run() -> Target:
    from rollout_doctor.store import backups

    run = next_run(backups.runs())
    if run is None:
        raise LookupError("no backups: neither `fix` nor `guard` has written anything yet")
    return Target("run", run_label(run), run.journals, [])


def run_label(run: Run) -> str:
    return f"run {run.id} ({run.command}, {run.created})"


def session(word: str) -> Target:
    """A session id or a unique prefix of one: the thread's transactions, found by its files in the Codex
    home, or, for a thread no longer there, by the id in the names of the files the backups hold."""
    from rollout_doctor.formats.claude.home import find_session
    from rollout_doctor.formats.claude.home import session_id as claude_session
    from rollout_doctor.formats.codex.home import configured_home
    from rollout_doctor.formats.codex.sessions import thread_files, threads_starting, unique_thread
    from rollout_doctor.store.backups import journals, journals_of

    home = configured_home()
    in_home = threads_starting(word, home)
    claude = find_session(word) if not in_home else None  # a Claude Code session: one transcript
    thread = (unique_thread(word, home, in_home) if in_home else claude_session(claude) if claude
              else unique_in_backups(word))
    if thread is None:
        raise LookupError(f"no session id starts with {word!r} under {home}, nor in the backups")
    files = [claude] if claude else thread_files(thread, home)
    found = {j.folder: j for f in files for j in journals_of(f)}
    good, _bad = journals()
    found.update({j.folder: j for j in good if any(thread_of(e.path) == thread for e in j.entries)})
    return Target("session", f"session {thread}", sorted(found.values(), key=lambda j: (j.created, j.id)), files)


def thread_of(path: Path) -> str | None:
    """The session a backed-up file belongs to, by its name: a Codex thread id or a Claude Code session id."""
    from rollout_doctor.formats.claude.home import session_id
    from rollout_doctor.formats.codex.home import thread_id_from_name

    return thread_id_from_name(path) or session_id(path)


def unique_in_backups(prefix: str) -> str | None:
    """The one thread id starting with ``prefix`` among the files the backups hold; None when none does."""
    from rollout_doctor.formats.codex.sessions import AmbiguousSession
    from rollout_doctor.store.backups import journals

    wanted = prefix.lower().replace("-", "")
    good, _bad = journals()
    threads = sorted({t for j in good for e in j.entries if (t := thread_of(e.path))
                      and t.replace("-", "").startswith(wanted)})
    if len(threads) > 1:
        raise AmbiguousSession(f"{prefix!r} starts {len(threads)} session ids in the backups; give more of it: "
                               + ", ".join(threads))
    return threads[0] if threads else None
