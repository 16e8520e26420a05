"""Replacing several session files as one: backups, a journal, then every file replaced or none.

See store/__init__.py for the protocol and what a crash at each step leaves."""

from __future__ import annotations

import os
import shutil
import stat
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rollout_doctor.store import signals
from rollout_doctor.store.copies import copy_private, sha256_of
from rollout_doctor.store.files import (
    RefusedToWrite,
    WriteError,
    copy_from,
    describe_os_error,
    ensure_not_live,
    fsync_dir,
    fsync_file,
    replace_checked,
    stage,
    temp_copy,
    write_temp,
)
from rollout_doctor.store.journal import (
    COMMITTED,
    PREPARED,
    ROLLED_BACK,
    STAGING,
    Entry,
    Journal,
    copy_name,
    now_text,
    path_text,
)
from rollout_doctor.store.location import backup_root, make_private_root, new_folder
from rollout_doctor.store.putback import regular_stat, restore_entry
from rollout_doctor.store.reading import is_compressed
from rollout_doctor.store.runs import current_command, current_run
from rollout_doctor.store.staging import Staged, sweep_staging, take
from rollout_doctor.store.state import FileState


@dataclass(frozen=True)
class Change:
    """One rollout of a transaction: its new version (plain bytes in ``result``; compressed again for a
    ``.jsonl.zst``) and the state it had when it was read."""

    path: Path
    result: Path
    before: FileState
    role: str = "requested"
    # ``result`` is a private scratch file that nothing will write again: it may become the new file
    # itself (a second name, not a copy) where it lies on the rollout's file system.
    handed_over: bool = False
    # A copy of the original being made ahead of the commit (staging.py), which the backup then is
    # when its hash is ``before``'s; else the original is copied here.
    ahead: Future[Staged] | None = None
    # The sha256 of ``result``, taken by its maker as it wrote it (copies.HashBehind), or None.
    digest: Future[str] | None = None


@dataclass
class Written:
    journal: Journal
    warnings: list[str] = field(default_factory=list)
    kept: dict[Path, Path] = field(default_factory=dict)  # --force over a live writer: where its appends go


def writable_by_intent(path: Path, like: os.stat_result, force: bool) -> list[str]:
    """A rollout with no write permission for anyone was made read-only on purpose (Codex itself could
    not append to it): refused unless ``force``, which keeps the mode. One with other hard links keeps
    its bytes under those names: said, not refused (Codex never links a rollout)."""
    warnings = []
    if not stat.S_IMODE(like.st_mode) & 0o222:
        if not force:
            raise RefusedToWrite(f"{path}: read-only (mode {stat.S_IMODE(like.st_mode):04o}); someone made it so, "
                                 "so it is not rewritten (--force rewrites it and keeps the mode)")
        warnings.append(f"{path}: read-only (mode {stat.S_IMODE(like.st_mode):04o}), rewritten because of --force")
    if like.st_nlink > 1:
        warnings.append(f"{path}: has {like.st_nlink - 1} other hard link(s); they keep the bytes it had, since "
                        "the rewrite gives the name a new file")
    return warnings


def commit(changes: list[Change], force: bool = False, command: str | None = None) -> Written:
    """Replace every file of ``changes`` with its new version, together, after backing each up.

    Raises RefusedToWrite (nothing replaced: a file changed or is live) or WriteError (nothing
    replaced: the backup could not be made, a disk is full, a folder is read-only). Once the journal
    exists, signals wait (store/signals.py) and a failure puts back the files already replaced."""
    reals = [Path(os.path.realpath(c.path)) for c in changes]  # a symlinked rollout: replace its target
    root = backup_root(reals)
    for real in reals:
        ensure_not_live(real, force)  # refuse before writing anything; --force's warnings come below
    likes = [regular_stat(real) for real in reals]
    notes = [w for real, like in zip(reals, likes) for w in writable_by_intent(real, like, force)]
    temps: list[Path] = []
    folder: Path | None = None
    done: list[int] = []  # the files replaced so far
    # A handed-over version is private and final: its hash (which prepare uses when the temporary file
    # is that very inode) and its temporary file's fsync run on the other core from now on, beside the
    # copy of the original; both are done before the journal exists.
    hashing = ThreadPoolExecutor(2)
    early = {n: hashing.submit(_hash_of, change) for n, change in enumerate(changes) if change.handed_over}
    syncing: dict[Path, Future[None]] = {}  # temporary files being fsynced beside the backup copy
    try:
        try:
            for change, real, like in zip(changes, reals, likes):
                compress = is_compressed(real)
                if change.handed_over:
                    tmp = temp_copy(real.parent, change.result, compress, like, real, real, sync=False)
                    syncing[tmp] = hashing.submit(fsync_file, tmp)
                else:
                    tmp = write_temp(real.parent, copy_from(change.result, compress), like, real, real)
                temps.append(tmp)
            stage("tmp-written")
            make_private_root(root)
            sweep_staging(root / STAGING)  # copies made ahead by runs that were killed
            folder = new_folder(root)
        except OSError as exc:
            raise WriteError(f"{exc.filename or reals[0]}: cannot write: {describe_os_error(exc)}; nothing was "
                             "changed") from None
        with signals.deferred():
            journal = prepare(folder, changes, reals, likes, temps, command, early, syncing)
            stage("backed-up")
            # Again, now that the slow part is done: a Codex may have opened a session meanwhile.
            live = {real: ensure_not_live(real, force) for real in reals}
            written = Written(journal, notes)
            replace_all(journal, reals, temps, changes, live, written, done)
    except BaseException:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        if folder is not None and not done:
            discard(folder)
        raise
    finally:
        hashing.shutdown(wait=True, cancel_futures=True)
    return written


def _hash_of(change: Change) -> str:
    """The new version's sha256: the one its maker took while writing it, else read now."""
    if change.digest is not None:
        try:
            return change.digest.result()
        except Exception:  # noqa: BLE001, S110 - whatever went wrong there, the file is hashed here
            pass
    return sha256_of(change.result)


def discard(folder: Path) -> None:
    """Remove a transaction that replaced nothing: its folder and its unfinished marker."""
    from rollout_doctor.store.journal import PENDING

    shutil.rmtree(folder, ignore_errors=True)
    (folder.parent / PENDING / folder.name).unlink(missing_ok=True)


def prepare(folder: Path, changes: list[Change], reals: list[Path], likes: list[os.stat_result],
             temps: list[Path], command: str | None, early: dict[int, Future[str]] | None = None,
             syncing: dict[Path, Future[None]] | None = None) -> Journal:
    """The originals' copies and a journal in state ``prepared``, all fsynced, before anything is replaced.
    ``early``: hashes of handed-over versions already under way, by their change's index; ``syncing``:
    fsyncs of temporary files under way, all done before the journal is written (recovery goes forward
    from those files)."""
    entries = []
    try:
        for n, (change, real, like, tmp) in enumerate(zip(changes, reals, likes, temps)):
            name = copy_name(n, real)
            tmp_state = os.stat(tmp)
            hashed = (early or {}).get(n)
            if hashed is not None and not os.path.samestat(tmp_state, os.stat(change.result)):
                hashed = None  # a copy (another file system, a compressed rollout): its own bytes are hashed
            # The new version is hashed on the other core while the original is copied and hashed.
            with ThreadPoolExecutor(1) as pool:
                after = hashed if hashed is not None else pool.submit(sha256_of, tmp)
                staged = take(change.ahead)
                if staged is not None and staged.sha256 == change.before.sha256:
                    os.rename(staged.path, folder / name)  # the journal's save fsyncs the folder
                elif copy_private(real, folder / name) != change.before.sha256:
                    raise RefusedToWrite(f"{real}: changed since it was read (seen while backing it up); not replaced")
                sha256_after = after.result()
            entries.append(Entry(
                path=real, copy=name, size_before=change.before.size, sha256_before=change.before.sha256,
                size_after=tmp_state.st_size, sha256_after=sha256_after, mode=stat.S_IMODE(like.st_mode),
                uid=like.st_uid, gid=like.st_gid, atime_ns=change.before.atime_ns or like.st_atime_ns,
                mtime_ns=change.before.mtime_ns, dev=tmp_state.st_dev, ino_after=tmp_state.st_ino,
                tmp=tmp.name, role=change.role))
        for tmp, synced in (syncing or {}).items():
            try:
                synced.result()
            except OSError as exc:
                raise WriteError(f"{tmp}: cannot write: {describe_os_error(exc)}; nothing was changed") from None
        journal = Journal(folder, PREPARED, now_text(), entries, os.getpid(), command or current_command(),
                          run=current_run())
        journal.save()
        fsync_dir(folder.parent)
    except OSError as exc:
        raise WriteError(f"{folder}: cannot write the backup: {describe_os_error(exc)}; nothing was changed") from None
    return journal


def replace_all(journal: Journal, reals: list[Path], temps: list[Path], changes: list[Change],
                 live: dict[Path, list[str]], written: Written, done: list[int]) -> None:
    try:
        for n, (real, tmp, change) in enumerate(zip(reals, temps, changes)):
            kept = replace_checked(real, tmp, change.before, keep=bool(live[real]))
            done.append(n)
            if kept is not None:
                written.kept[real] = kept
                written.warnings.extend(w + f"; it is kept as {kept}" for w in live[real])
            stage("replaced")
    except BaseException as exc:
        if not done:
            raise  # nothing was replaced: the journal goes with the temporary files (commit's cleanup)
        problems = put_back(journal, done)
        journal.state = ROLLED_BACK if not problems else PREPARED
        try:
            journal.save()
        except OSError:
            pass  # the next run sees which files hold which bytes and completes the record
        if problems:
            raise WriteError("; ".join([f"the transaction failed ({exc}) and could not put every file back",
                                        *problems, "the backup folder keeps the originals: " + str(journal.folder)])) \
                from exc
        if isinstance(exc, OSError):
            raise WriteError(f"{exc.filename or reals[len(done)]}: cannot replace: {describe_os_error(exc)}; "
                             "nothing was changed") from None
        raise
    journal.state = COMMITTED
    for entry in journal.entries:
        entry.tmp = None
    try:
        journal.save()
    except OSError as exc:
        written.warnings.append(f"the backup journal {journal.folder} could not be marked committed "
                                f"({describe_os_error(exc)}); the files are written and the next run records it")
    stage("committed")


def put_back(journal: Journal, indexes: list[int]) -> list[str]:
    """Restore the originals of the files a failed transaction already replaced; what could not be."""
    problems = []
    for n in reversed(indexes):
        entry = journal.entries[n]
        try:
            restore_entry(journal, entry, FileState.of(entry.path), force=False)
        except (OSError, RefusedToWrite, WriteError) as exc:
            problems.append(f"{path_text(entry.path)}: {exc}")
    return problems
