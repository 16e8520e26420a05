"""``undo``: restore a fixed rollout from its backup, list the backups, or prune the old ones."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rollout_doctor.cli.commands.fix import complete_interrupted
from rollout_doctor.cli.options import UsageError
from rollout_doctor.core.exitcodes import CLEAN, ERROR, REFUSED

if TYPE_CHECKING:
    from rich.console import Console

    from rollout_doctor.store.undo import Restored


def undo(path: Path | None, list_: bool, prune: float | None, force: bool) -> int:
    """Restore a rollout, byte for byte, to what it was before the last fix (with every file that fix wrote)."""
    from rich.markup import escape

    from rollout_doctor import store
    from rollout_doctor.cli import render

    out = render.console()
    err = render.console(stderr=True)
    try:
        complete_interrupted(err, everything=True)
        if prune is not None:
            return prune_backups(prune, out)
        if list_:
            return list_backups(path, out, err)
        if path is None:
            raise UsageError("give the rollout to restore, or --list")
        restored = store.restore(path, force=force)
    except LookupError as exc:
        err.print(f"rollout-doctor: {escape(str(exc))}")
        return ERROR
    except store.RefusedToWrite as exc:
        err.print(f"rollout-doctor: refused: {escape(str(exc))}")
        return REFUSED
    except store.WriteError as exc:
        err.print(f"rollout-doctor: {escape(str(exc))}")
        return ERROR
    except OSError as exc:
        err.print(f"rollout-doctor: {escape(str(exc.filename or path))}: {escape(exc.strerror or str(exc))}")
        return ERROR
    report_restored(restored, out, err)
    return CLEAN


def prune_backups(days: float, out: Console) -> int:
    from rich.markup import escape

    from rollout_doctor.store.backups import prune

    gone = prune(days)
    for journal in gone:
        out.print(f"removed {escape(str(journal.folder))} ({escape(journal.created)}; "
                  f"{', '.join(escape(str(e.path)) for e in journal.entries)})")
    out.print(f"{len(gone)} backup(s) removed")
    return CLEAN


def list_backups(path: Path | None, out: Console, err: Console) -> int:
    from rich.markup import escape

    from rollout_doctor.cli import render
    from rollout_doctor.store.backups import describe_state, journals, journals_of

    if path:
        found, bad = journals_of(path), []
    else:
        found, bad = journals()
    if not found and not bad:
        out.print("no backups" + (f" for {escape(str(path))}" if path else ""))
    # The newest committed transaction of each file is the one the next undo restores.
    next_undo = {e.path: j for j in found if j.state == "committed" for e in j.entries}
    for journal in found:
        label = describe_state(journal)
        if any(next_undo.get(e.path) is journal for e in journal.entries):
            label += ", by the next undo"
        out.print(render.journal_line(journal, label))
    for unreadable in bad:
        err.print(f"rollout-doctor: unusable backup: {escape(unreadable.reason)}")
    return CLEAN


def report_restored(restored: Restored, out: Console, err: Console) -> None:
    from rich.markup import escape

    for warning in restored.warnings:
        err.print(f"rollout-doctor: warning: {escape(warning)}")
    journal = restored.journal
    for entry, where in zip(journal.entries, restored.files):
        what = (f"the version saved {journal.created}, before the fix ({entry.size_before} bytes, sha256 "
                f"{entry.sha256_before[:12]}…)")
        if where in restored.already:
            out.print(f"{escape(str(where))} already holds {what}; marked as restored")
        else:
            out.print(f"restored {escape(str(where))} to {what}")
    for where, saved in restored.saved.items():
        of = f" ({escape(str(where))})" if len(journal.entries) > 1 else ""
        out.print(f"the bytes it replaced{of} are saved in {escape(str(saved))}")
    forget_projections(restored, out, err)


def forget_projections(restored: Restored, out: Console, err: Console) -> None:
    """A resume after the fix made Codex (0.169.0, 0.171.0) project the fixed bytes; the restored ones
    differ, so that projection is stale in the same way a fix leaves it (codex_state.py), and is forgotten."""
    from rich.markup import escape

    from rollout_doctor.formats import known

    changed = [where for where in restored.files if where not in restored.already]
    resets = [reset for fmt in known() for where in changed
              if (reset := fmt.after_write(where, restored.journal.folder))]
    for reset in resets:
        if reset.error:
            err.print(f"rollout-doctor: warning: Codex's thread history of {escape(reset.thread_id)} could not be "
                      f"reset ({escape(reset.error)}); Codex will log projection warnings")
        else:
            out.print(f"Codex's thread history of {escape(reset.thread_id)} was reset ({reset.rows} rows; they are "
                      f"saved in {escape(str(reset.backup))}); Codex rebuilds it at the next resume")
