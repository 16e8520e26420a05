"""Committing a fixed thread to the store, and completing what a killed run left half-done.

The fix loop leaves each file's last pass in a private scratch folder (fixer.py); the store replaces
the files with those as one transaction (store/transaction.py), taking as backups the copies made
while the fix was worked out when they are the files read (store/staging.py). After it, each file's
index cache entry is dropped and its client told (the format's ``after_write``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from rollout_doctor.core.errors import error_message

if TYPE_CHECKING:
    from rollout_doctor.core.fixer import Member
    from rollout_doctor.core.format import Format


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def commit_thread(fmt: Format, members: list[Member], force: bool) -> None:
    """Write the fixed files of one thread as one transaction, and say in each report what happened."""
    from rollout_doctor.store import Change as StoreChange
    from rollout_doctor.store import RefusedToWrite, WriteError, commit

    # Each result is the fix loop's last pass, in a private scratch folder removed after the commit.
    changes = [StoreChange(m.path, m.loop.current.path, m.before, m.role, handed_over=True,  # type: ignore[union-attr, arg-type]
                           ahead=m.ahead, digest=m.loop.digest) for m in members]  # type: ignore[union-attr]
    try:
        written = commit(changes, force=force)
    except RefusedToWrite as exc:
        for m in members:
            m.report.refused, m.report.remaining, m.report.applied = str(exc), m.report.diagnostics, []
        return
    except (WriteError, OSError) as exc:
        for m in members:
            m.report.error = error_message(m.path, exc)
            m.report.remaining, m.report.applied = m.report.diagnostics, []
        return
    from rollout_doctor.core.index_cache import forget

    for m in members:
        forget(fmt, m.path)  # a new inode: the entry could not be used again anyway
        report = m.report
        report.written, report.backup = True, written.journal.folder
        report.warnings.extend(w for w in written.warnings if str(_real(m.path)) in w)
        # The client's own index of the session points at byte offsets and ordinals the fix just moved;
        # once dropped it is rebuilt cleanly at the next resume.
        report.index_reset = fmt.after_write(m.path, written.journal.folder)
        if report.index_reset is not None and report.index_reset.warning:
            report.warnings.append(report.index_reset.warning)
    unplaced = [w for w in written.warnings if not any(str(_real(m.path)) in w for m in members)]
    members[0].report.warnings.extend(unplaced)


def complete_interrupted(formats: Iterable[Format], everything: bool = False) -> list:  # type: ignore[type-arg]
    """Finish what a killed fix or undo left half-done (store/__init__.py) and tell each client of every
    file it had written (the killed run never did); what was completed."""
    from rollout_doctor.store import recover

    done = recover(everything=everything)
    for completed in done:
        for fmt in formats:
            fmt.after_recover(completed.changed, completed.journal.folder)
    return done
