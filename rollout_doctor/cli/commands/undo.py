"""``undo``: restore what a fix wrote, byte for byte: a rollout, a folder, a session or the last run;
list the backups by run, or prune the old ones (backups.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rollout_doctor.cli.commands.fix import complete_interrupted
from rollout_doctor.core.exitcodes import CLEAN, ERROR, REFUSED

if TYPE_CHECKING:
    from rich.console import Console

    from rollout_doctor.cli.commands.undo_targets import Target
    from rollout_doctor.store.journal import Journal
    from rollout_doctor.store.undo import Restored


def undo(what: str | None, last_run: bool, list_: bool, prune: float | None, prune_keep: int | None,
         force: bool) -> int:
    """Restore, byte for byte, what a fix wrote: a rollout (with every file its fix wrote), every fix of a
    folder, a session's last fix, or every file of the last run (--last-run). --list shows the backups."""
    from rich.markup import escape

    from rollout_doctor import store
    from rollout_doctor.cli import render
    from rollout_doctor.cli.commands import backups, undo_targets
    from rollout_doctor.store.runs import start_run

    start_run("undo")
    out = render.console()
    err = render.console(stderr=True)
    try:
        complete_interrupted(err, everything=True)
        if prune is not None or prune_keep is not None:
            return backups.prune_backups(prune, prune_keep, out)
        if list_:
            return backups.list_backups(what, last_run, out, err)
        target = undo_targets.find(what, last_run)
        restored = store.restore_all(journals_to_restore(target), force, target.via)
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
        err.print(f"rollout-doctor: {escape(str(exc.filename or what))}: {escape(exc.strerror or str(exc))}")
        return ERROR
    for one in restored:
        report_restored(one, out, err)
    if target.kind != "file":
        files = len({where for one in restored for where in one.files})
        out.print(f"undid {len(restored)} fix(es) of {escape(target.label)}: {files} file(s) restored")
    return CLEAN


def journals_to_restore(target: Target) -> list[Journal]:
    """The transactions to restore, newest first; LookupError naming what has no backup left."""
    chosen = target.to_restore()
    if chosen:
        return chosen
    if target.everything and target.journals:
        raise LookupError(f"nothing to undo: every fix of {target.label} is undone already")
    raise LookupError(f"{target.label}: no backup to restore (`rollout-doctor undo --list` shows them all)")


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
