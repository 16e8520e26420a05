"""Undo: every file of the newest committed transaction that wrote a path, put back byte for byte.

See store/__init__.py for the protocol."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rollout_doctor.store import signals
from rollout_doctor.store.backups import journals_of
from rollout_doctor.store.copies import copy_private, current_sha, sha256_of
from rollout_doctor.store.files import RefusedToWrite, describe_os_error, ensure_not_live
from rollout_doctor.store.journal import (
    COMMITTED,
    RESTORED,
    RESTORING,
    Entry,
    Journal,
    now_text,
    path_text,
)
from rollout_doctor.store.putback import restore_entry
from rollout_doctor.store.reading import is_compressed
from rollout_doctor.store.runs import Run
from rollout_doctor.store.state import FileState


@dataclass(frozen=True)
class Restored:
    journal: Journal
    files: list[Path] = field(default_factory=list)  # where each entry's file is now (Codex may have moved it)
    already: list[Path] = field(default_factory=list)  # files that already held the original bytes
    saved: dict[Path, Path] = field(default_factory=dict)  # --force: where the bytes an undo replaced went
    warnings: list[str] = field(default_factory=list)


def restore(path: Path, force: bool = False) -> Restored:
    """Put back every file of the newest transaction that wrote ``path`` and has not been undone."""
    candidates = [j for j in journals_of(path) if j.state == COMMITTED]
    if not candidates:
        raise LookupError(f"{path}: no backup to restore (`rollout-doctor undo --list` shows them all)")
    return restore_transaction(candidates[-1], force, via=path)


def restore_run(run: Run, force: bool = False) -> list[Restored]:
    """Put back every transaction of a run that has not been undone, newest first (a later transaction
    of the run may have rewritten a file an earlier one wrote)."""
    return restore_all(list(reversed(run.journals)), force)


def restore_all(journals: list[Journal], force: bool = False, via: Sequence[Path] = ()) -> list[Restored]:
    """Put back the committed ones of ``journals``, given newest first, after checking them all: nothing
    is touched when a backup is missing, a file changed since the fix that wrote it last (or between two
    of these fixes), or a live process holds one, unless ``force``."""
    pending = [j for j in journals if j.state == COMMITTED]
    _preflight(pending, force, via)
    return [restore_transaction(j, force, via) for j in pending]


def _preflight(journals: list[Journal], force: bool, via: Sequence[Path]) -> None:
    """Refuse, before anything is restored, what ``restore_transaction`` would refuse on the way: each
    file must hold the bytes the newest of these fixes wrote, and each older fix's result must be what
    the next one started from (else the file changed between them)."""
    holds: dict[Path, str | None] = {}  # what each file holds when its next transaction's turn comes
    for journal in journals:
        for entry, where in _targets(journal, via):
            if not journal.copy_of(entry).is_file():
                raise RefusedToWrite(f"{journal.copy_of(entry)}: the backup of {path_text(entry.path)} is missing; "
                                     "nothing restored")
            if where not in holds:
                holds[where] = current_sha(where)
                if holds[where] is not None:
                    ensure_not_live(where, force)
            if holds[where] not in (None, entry.sha256_after, entry.sha256_before) and not force:
                raise RefusedToWrite(f"{where}: changed since rollout-doctor fixed it (did its client append to it?); "
                                     "undo would lose those changes; nothing restored. Use --force to restore anyway "
                                     "(the current bytes are saved next to the backup first)")
            holds[where] = entry.sha256_before


def restore_transaction(journal: Journal, force: bool = False, via: Path | Sequence[Path] | None = None) -> Restored:
    """Put back every file of one committed transaction. ``via``: the paths the user named, which may be
    where the client has since moved its files (recognised by the inode the fix gave them)."""
    targets = _targets(journal, via)
    states = _check_backups_and_files(journal, targets, force)
    changed = [where for (entry, where), state in zip(targets, states)
               if state is not None and state.sha256 not in (entry.sha256_after, entry.sha256_before)]
    saved = _save_what_undo_replaces(journal, targets, states, changed)
    journal.state = RESTORING
    journal.extra["restoring_at"] = now_text()
    journal.save()
    warnings: list[str] = []
    already: list[Path] = []
    with signals.deferred():
        for (entry, where), state in zip(targets, states):
            if state is not None and state.sha256 == entry.sha256_before:
                already.append(where)
                continue
            moved_entry = Entry(**{**entry.__dict__, "path": where})
            warnings.extend(restore_entry(journal, moved_entry, state, force))
        journal.state = RESTORED
        journal.extra.update(restored_at=now_text(), saved_by_undo={path_text(k): v.name for k, v in saved.items()})
        try:
            journal.save()
        except OSError as exc:
            warnings.append(f"the backup journal {journal.folder} could not be marked restored "
                            f"({describe_os_error(exc)}); the files are restored and the next run records it")
    return Restored(journal, [where for _entry, where in targets], already, saved, warnings)


def _targets(journal: Journal, via: Path | Sequence[Path] | None) -> list[tuple[Entry, Path]]:
    """Each entry and where its file is now."""
    moved: dict[Path, Path] = {}
    for path in [via] if isinstance(via, Path) else via or ():
        real = Path(os.path.realpath(path))
        moved.update({e.path: real for e in journal.entries if e.path != real and same_file(e, path)})
    return [(entry, moved.get(entry.path, entry.path)) for entry in journal.entries]


def _check_backups_and_files(journal: Journal, targets: list[tuple[Entry, Path]],
                             force: bool) -> list[FileState | None]:
    """Each file's state now (None: missing), after refusing what undo must not do: a backup that does
    not match its journal, a file changed since the fix (unless ``force``), a file a live process holds."""
    for entry, _where in targets:
        copy = journal.copy_of(entry)
        if not copy.is_file() or sha256_of(copy) != entry.sha256_before:
            raise RefusedToWrite(f"{copy}: the backup of {path_text(entry.path)} does not match its journal; "
                                 "nothing restored")
    states: list[FileState | None] = []
    for _entry, where in targets:
        try:
            states.append(FileState.of(where))
        except FileNotFoundError:
            states.append(None)
    changed = [where for (entry, where), state in zip(targets, states)
               if state is not None and state.sha256 not in (entry.sha256_after, entry.sha256_before)]
    if changed and not force:
        raise RefusedToWrite(
            f"{changed[0]}: changed since rollout-doctor fixed it (did its client append to it?); undo would lose "
            "those changes. Use --force to restore anyway (the current bytes are saved next to the backup first)"
            + (f"; this fix also wrote {len(targets) - 1} other file(s), restored together" if len(targets) > 1 else ""))
    for where in [w for (_e, w), s in zip(targets, states) if s is not None]:
        ensure_not_live(where, force)  # refuse before anything is touched
    return states


def _save_what_undo_replaces(journal: Journal, targets: list[tuple[Entry, Path]], states: list[FileState | None],
                             changed: list[Path]) -> dict[Path, Path]:
    """--force over a file changed since the fix: its current bytes, kept in the transaction's folder."""
    saved: dict[Path, Path] = {}
    for n, ((_entry, where), state) in enumerate(zip(targets, states)):
        if where in changed:
            name = f"replaced-by-undo-{now_text().replace(':', '')}-{n}{'.jsonl.zst' if is_compressed(where) else '.jsonl'}"
            if copy_private(where, journal.folder / name) != state.sha256:  # type: ignore[union-attr]
                raise RefusedToWrite(f"{where}: changed while it was being saved; not restored")
            saved[where] = journal.folder / name
    return saved


def same_file(entry: Entry, path: Path) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    return bool(entry.ino_after) and (entry.dev, entry.ino_after) == (st.st_dev, st.st_ino)
