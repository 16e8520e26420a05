"""Replacing several rollouts as one: commit, completion after a crash, and undo.

See store/__init__.py for the protocol and what a crash at each step leaves.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rollout_doctor.store import tempfiles
from rollout_doctor.store.reading import is_compressed, open_regular
from rollout_doctor.store import signals
from rollout_doctor.store.files import (
    CHUNK,
    FileState,
    RefusedToWrite,
    WriteError,
    copy_from,
    describe_os_error,
    ensure_not_live,
    fsync_dir,
    replace_checked,
    sha256_fd,
    sha256_of,
    stage,
    write_temp,
)
from rollout_doctor.store.journal import (
    ABANDONED,
    COMMITTED,
    PREPARED,
    RESTORED,
    RESTORING,
    ROLLED_BACK,
    Entry,
    Journal,
    Unreadable,
    backup_root,
    copy_name,
    make_private_root,
    new_folder,
    now_text,
    path_text,
    scan,
    unfinished,
)


@dataclass(frozen=True)
class Change:
    """One rollout of a transaction: its new version (plain bytes in ``result``; compressed again for a
    ``.jsonl.zst``) and the state it had when it was read."""

    path: Path
    result: Path
    before: FileState
    role: str = "requested"


@dataclass
class Written:
    journal: Journal
    warnings: list[str] = field(default_factory=list)
    kept: dict[Path, Path] = field(default_factory=dict)  # --force over a live writer: where its appends go


def _copy_private(src: Path, dst: Path) -> str:
    """Copy ``src`` to a new 0600 file ``dst``, fsynced; the sha256 of the bytes copied."""
    import hashlib

    digest = hashlib.sha256()
    fd_in = open_regular(src)
    try:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            offset = 0
            while data := os.pread(fd_in, CHUNK, offset):
                digest.update(data)
                out.write(data)
                offset += len(data)
            out.flush()
            os.fsync(out.fileno())
    finally:
        os.close(fd_in)
    return digest.hexdigest()


def _regular(path: Path) -> os.stat_result:
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise RefusedToWrite(f"{path}: not a regular file; not replaced")
    return st


def _writable_by_intent(path: Path, like: os.stat_result, force: bool) -> list[str]:
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

def commit(changes: list[Change], force: bool = False, command: str = "fix") -> Written:
    """Replace every file of ``changes`` with its new version, together, after backing each up.

    Raises RefusedToWrite (nothing replaced: a file changed or is live) or WriteError (nothing
    replaced: the backup could not be made, a disk is full, a folder is read-only). Once the journal
    exists, signals wait (store/signals.py) and a failure puts back the files already replaced."""
    reals = [Path(os.path.realpath(c.path)) for c in changes]  # a symlinked rollout: replace its target
    root = backup_root(reals)
    for real in reals:
        ensure_not_live(real, force)  # refuse before writing anything; --force's warnings come below
    likes = [_regular(real) for real in reals]
    notes = [w for real, like in zip(reals, likes) for w in _writable_by_intent(real, like, force)]
    temps: list[Path] = []
    folder: Path | None = None
    done: list[int] = []  # the files replaced so far
    try:
        try:
            for change, real, like in zip(changes, reals, likes):
                tmp, _after = write_temp(real.parent, copy_from(change.result, is_compressed(real)), like, real, real)
                temps.append(tmp)
            stage("tmp-written")
            make_private_root(root)
            folder = new_folder(root)
        except OSError as exc:
            raise WriteError(f"{exc.filename or reals[0]}: cannot write: {describe_os_error(exc)}; nothing was "
                             "changed") from None
        with signals.deferred():
            journal = _prepare(folder, changes, reals, likes, temps, command)
            stage("backed-up")
            # Again, now that the slow part is done: a Codex may have opened a session meanwhile.
            live = {real: ensure_not_live(real, force) for real in reals}
            written = Written(journal, notes)
            _replace_all(journal, reals, temps, changes, live, written, done)
    except BaseException:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        if folder is not None and not done:
            discard(folder)
        raise
    return written


def discard(folder: Path) -> None:
    """Remove a transaction that replaced nothing: its folder and its unfinished marker."""
    from rollout_doctor.store.journal import PENDING

    shutil.rmtree(folder, ignore_errors=True)
    (folder.parent / PENDING / folder.name).unlink(missing_ok=True)


def _current_sha(path: Path) -> str | None:
    try:
        return sha256_of(path)
    except OSError:
        return None


def _prepare(folder: Path, changes: list[Change], reals: list[Path], likes: list[os.stat_result],
             temps: list[Path], command: str) -> Journal:
    """The originals' copies and a journal in state ``prepared``, all fsynced, before anything is replaced."""
    entries = []
    try:
        for n, (change, real, like, tmp) in enumerate(zip(changes, reals, likes, temps)):
            name = copy_name(n, real)
            if _copy_private(real, folder / name) != change.before.sha256:
                raise RefusedToWrite(f"{real}: changed since it was read (seen while backing it up); not replaced")
            tmp_state = os.stat(tmp)
            entries.append(Entry(
                path=real, copy=name, size_before=change.before.size, sha256_before=change.before.sha256,
                size_after=tmp_state.st_size, sha256_after=_sha_of(tmp), mode=stat.S_IMODE(like.st_mode),
                uid=like.st_uid, gid=like.st_gid, atime_ns=change.before.atime_ns or like.st_atime_ns,
                mtime_ns=change.before.mtime_ns, dev=tmp_state.st_dev, ino_after=tmp_state.st_ino,
                tmp=tmp.name, role=change.role))
        journal = Journal(folder, PREPARED, now_text(), entries, os.getpid(), command)
        journal.save()
        fsync_dir(folder.parent)
    except OSError as exc:
        raise WriteError(f"{folder}: cannot write the backup: {describe_os_error(exc)}; nothing was changed") from None
    return journal


def _sha_of(path: Path) -> str:
    fd = os.open(path, os.O_RDONLY)
    try:
        return sha256_fd(fd)
    finally:
        os.close(fd)


def _replace_all(journal: Journal, reals: list[Path], temps: list[Path], changes: list[Change],
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
        problems = _put_back(journal, done)
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


def _put_back(journal: Journal, indexes: list[int]) -> list[str]:
    """Restore the originals of the files a failed transaction already replaced; what could not be."""
    problems = []
    for n in reversed(indexes):
        entry = journal.entries[n]
        try:
            _restore_entry(journal, entry, FileState.of(entry.path), force=False)
        except (OSError, RefusedToWrite, WriteError) as exc:
            problems.append(f"{path_text(entry.path)}: {exc}")
    return problems


# --- undo -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    journal: Journal
    files: list[Path] = field(default_factory=list)  # where each entry's file is now (Codex may have moved it)
    already: list[Path] = field(default_factory=list)  # files that already held the original bytes
    saved: dict[Path, Path] = field(default_factory=dict)  # --force: where the bytes an undo replaced went
    warnings: list[str] = field(default_factory=list)


def _restore_entry(journal: Journal, entry: Entry, current: FileState | None, force: bool) -> list[str]:
    """Put one file back to its original bytes, keeping its current times (or the recorded ones when
    it is missing). Returns warnings (what --force over a live writer risked)."""
    real = entry.path
    copy = journal.copy_of(entry)
    if current is None:
        _restore_missing(entry, copy)
        return []
    warnings = ensure_not_live(real, force)
    like = _regular(real)
    tmp, _state = write_temp(real.parent, copy_from(copy, False), like, real, real)
    try:
        kept = replace_checked(real, tmp, current, keep=bool(warnings))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return [w + f"; it is kept as {kept}" for w in warnings] if kept else warnings


def _restore_missing(entry: Entry, copy: Path) -> None:
    real = entry.path
    fd, tmp = tempfiles.session_tmp(real.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            copy_from(copy, False)(out)
            out.flush()
            try:
                os.fchown(out.fileno(), entry.uid, entry.gid)
            except (PermissionError, OverflowError):
                pass  # the file is gone; better ours than not back at all
            os.fchmod(out.fileno(), entry.mode)
            os.fsync(out.fileno())
        if os.path.lexists(real):
            raise RefusedToWrite(f"{real}: appeared while it was being restored; not replaced")
        os.replace(tmp, real)
        if entry.mtime_ns:
            os.utime(real, ns=(entry.atime_ns or entry.mtime_ns, entry.mtime_ns))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(real.parent)


def journals() -> tuple[list[Journal], list[Unreadable]]:
    """Every transaction in the store, oldest first, and the folders that could not be read."""
    good: list[Journal] = []
    bad: list[Unreadable] = []
    for found in scan(backup_root()):
        (good if isinstance(found, Journal) else bad).append(found)
    return good, bad


def journals_of(path: Path) -> list[Journal]:
    """The transactions that wrote ``path``, oldest first: by its path, or, for a file Codex has since
    moved (archived), by the inode the fix gave it. Never by its bytes alone: a copy of a session is
    another file, and its undo must not use up the original's backup."""
    real = Path(os.path.realpath(path))
    try:
        st = os.stat(real)
        identity: tuple[int, int] | None = (st.st_dev, st.st_ino)
    except OSError:
        identity = None
    good, _bad = journals()
    by_path = [j for j in good if any(e.path == real for e in j.entries)]
    if by_path:
        return by_path
    return [j for j in good if identity is not None
            and any(e.ino_after and (e.dev, e.ino_after) == identity for e in j.entries)]


def entry_for(journal: Journal, path: Path) -> Entry:
    real = Path(os.path.realpath(path))
    for entry in journal.entries:
        if entry.path == real:
            return entry
    st = os.stat(real)
    return next(e for e in journal.entries if (e.dev, e.ino_after) == (st.st_dev, st.st_ino))


def restore(path: Path, force: bool = False) -> Restored:
    """Put back every file of the newest transaction that wrote ``path`` and has not been undone."""
    candidates = [j for j in journals_of(path) if j.state == COMMITTED]
    if not candidates:
        raise LookupError(f"{path}: no backup to restore (`rollout-doctor undo --list` shows them all)")
    journal = candidates[-1]
    moved = {entry.path: Path(os.path.realpath(path)) for entry in journal.entries
             if entry.path != Path(os.path.realpath(path)) and _same_file(entry, path)}
    targets = [(entry, moved.get(entry.path, entry.path)) for entry in journal.entries]
    for entry, _where in targets:
        copy = journal.copy_of(entry)
        if not copy.is_file() or sha256_of(copy) != entry.sha256_before:
            raise RefusedToWrite(f"{copy}: the backup of {path_text(entry.path)} does not match its journal; "
                                 "nothing restored")
    states: list[FileState | None] = []
    for entry, where in targets:
        try:
            states.append(FileState.of(where))
        except FileNotFoundError:
            states.append(None)
    changed = [where for (entry, where), state in zip(targets, states)
               if state is not None and state.sha256 not in (entry.sha256_after, entry.sha256_before)]
    if changed and not force:
        raise RefusedToWrite(
            f"{changed[0]}: changed since rollout-doctor fixed it (did its client append to it?); undo would lose those "
            "changes. Use --force to restore anyway (the current bytes are saved next to the backup first)"
            + (f"; this fix also wrote {len(targets) - 1} other file(s), restored together" if len(targets) > 1 else ""))
    for where in [w for (_e, w), s in zip(targets, states) if s is not None]:
        ensure_not_live(where, force)  # refuse before anything is touched
    saved: dict[Path, Path] = {}
    for n, ((entry, where), state) in enumerate(zip(targets, states)):
        if where in changed:
            name = f"replaced-by-undo-{now_text().replace(':', '')}-{n}{'.jsonl.zst' if is_compressed(where) else '.jsonl'}"
            if _copy_private(where, journal.folder / name) != state.sha256:  # type: ignore[union-attr]
                raise RefusedToWrite(f"{where}: changed while it was being saved; not restored")
            saved[where] = journal.folder / name
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
            warnings.extend(_restore_entry(journal, moved_entry, state, force))
        journal.state = RESTORED
        journal.extra.update(restored_at=now_text(), saved_by_undo={path_text(k): v.name for k, v in saved.items()})
        try:
            journal.save()
        except OSError as exc:
            warnings.append(f"the backup journal {journal.folder} could not be marked restored "
                            f"({describe_os_error(exc)}); the files are restored and the next run records it")
    return Restored(journal, [where for _entry, where in targets], already, saved, warnings)


def _same_file(entry: Entry, path: Path) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    return bool(entry.ino_after) and (entry.dev, entry.ino_after) == (st.st_dev, st.st_ino)


# --- completing what a killed run left ---------------------------------------------------------------


@dataclass(frozen=True)
class Recovered:
    journal: Journal
    outcome: str  # "committed", "rolled back", "restored", "abandoned", or why it was left alone
    # Files whose bytes differ from what Codex last saw of them: every file of a transaction that got as
    # far as replacing one (the killed run never reset their projections; codex_state.py).
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
            out.append(_complete(journal))
        except (OSError, RefusedToWrite, WriteError) as exc:
            out.append(Recovered(journal, f"left as it is: {exc}"))
    return out


def _complete(journal: Journal) -> Recovered:
    shas = [_current_sha(e.path) for e in journal.entries]
    before = [sha == e.sha256_before for sha, e in zip(shas, journal.entries)]
    after = [sha == e.sha256_after for sha, e in zip(shas, journal.entries)]
    strange = [path_text(e.path) for e, b, a in zip(journal.entries, before, after) if not (b or a)]
    if strange:
        return Recovered(journal, "left as it is: changed since the interrupted run: " + ", ".join(strange)
                         + f" (`rollout-doctor undo --force` restores from {journal.folder})")
    every = [e.path for e in journal.entries]
    if journal.state == RESTORING:
        with signals.deferred():
            for entry, done in zip(journal.entries, before):
                if not done:
                    _restore_entry(journal, entry, FileState.of(entry.path), force=False)
            journal.state = RESTORED
            journal.save()
        return Recovered(journal, "restored", every)
    if all(after):
        journal.state = COMMITTED
        _drop_temps(journal)
        journal.save()
        return Recovered(journal, "committed", every)
    if all(before):
        _drop_temps(journal)
        journal.state = ABANDONED
        discard(journal.folder)
        return Recovered(journal, "abandoned")
    pending = [e for e, done in zip(journal.entries, after) if not done]
    temps = {e.path: e.path.parent / e.tmp for e in pending if e.tmp}
    with signals.deferred():
        if len(temps) == len(pending) and all(t.is_file() and _sha_of(t) == e.sha256_after
                                              for e, t in zip(pending, temps.values())):
            for entry in pending:
                replace_checked(entry.path, temps[entry.path], FileState.of(entry.path))
            journal.state = COMMITTED
            outcome = "committed"
        else:
            for entry, done in zip(journal.entries, after):
                if done:
                    _restore_entry(journal, entry, FileState.of(entry.path), force=False)
            journal.state = ROLLED_BACK
            outcome = "rolled back"
        _drop_temps(journal)
        journal.save()
    return Recovered(journal, outcome, every)


def _drop_temps(journal: Journal) -> None:
    for entry in journal.entries:
        if entry.tmp:
            (entry.path.parent / entry.tmp).unlink(missing_ok=True)
            entry.tmp = None


def prune(older_than_days: float, now: float | None = None) -> list[Journal]:
    """Remove the finished transactions (undone, or committed and kept) created more than
    ``older_than_days`` ago; an unfinished one is never removed. What was removed."""
    import calendar
    import time

    now = time.time() if now is None else now
    removed = []
    good, _bad = journals()
    for journal in good:
        if journal.state in (PREPARED, RESTORING):
            continue
        try:
            created = calendar.timegm(time.strptime(journal.created, "%Y-%m-%dT%H:%M:%SZ"))
        except ValueError:
            continue
        if now - created > older_than_days * 86400:
            shutil.rmtree(journal.folder, ignore_errors=True)
            removed.append(journal)
    return removed


def transaction_of_state(journal: Journal) -> str:
    return {COMMITTED: "can be restored", RESTORED: "restored", PREPARED: "interrupted",
            RESTORING: "undo interrupted", ROLLED_BACK: "interrupted, rolled back",
            ABANDONED: "interrupted before it wrote anything"}.get(journal.state, journal.state)
