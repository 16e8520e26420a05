"""One file replaced without ever losing a byte: a temporary copy with its attributes, and the checked
replace (the state it checks is state.py's). The order these are used in, and what a crash leaves, is in store/__init__.py."""

from __future__ import annotations

import errno
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from rollout_doctor.store import liveness, tempfiles
from rollout_doctor.store.copies import CHUNK, sha256_fd
from rollout_doctor.store.reading import is_compressed, open_regular
from rollout_doctor.store.state import FileState

# Name of a hard link that keeps the replaced original reachable when --force rewrote a rollout a live
# process was writing: what it writes afterwards lands there. Hidden, and not a rollout-*.jsonl name.
KEPT_PREFIX = ".rollout-doctor-kept-"
NAME_MAX = 255  # bytes in one file name on the file systems Codex homes live on

# Test seam: called with the name of each step of a commit ("tmp-written", "backed-up", "checked",
# "swapped" (just after os.replace), "replaced", "committed"; the middle three once per file of a
# transaction). Tests set it to kill the process,
# send it a signal, or write to the rollout at that moment; it is None in every normal run.
STAGE_HOOK: Callable[[str], None] | None = None


def stage(name: str) -> None:
    if STAGE_HOOK is not None:
        STAGE_HOOK(name)


class RefusedToWrite(Exception):
    """The file must not be replaced (it changed under us, or a process holds it open)."""


class WriteError(Exception):
    """Writing is impossible or unsafe for a reason that is not a bug: a bad backup location, a full
    disk, a read-only folder."""


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a folder; the data itself is already synced
    finally:
        os.close(fd)


def describe_os_error(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    if exc.errno == errno.EROFS:
        return "read-only file system"
    return exc.strerror or str(exc)


def keep_attributes(fd: int, like: os.stat_result, source: Path | None, target: Path) -> None:
    """Give the file at ``fd`` the owner, group, mode and extended attributes of the original.

    The group is compared with what the new file got, not with this user's: in a set-group-id folder a
    new file takes the folder's group, and a 0640 session would then be readable by that group."""
    st = os.fstat(fd)
    if (st.st_uid, st.st_gid) != (like.st_uid, like.st_gid):
        try:
            os.fchown(fd, like.st_uid, like.st_gid)
        except PermissionError:
            raise RefusedToWrite(
                f"{target}: owned by uid {like.st_uid} gid {like.st_gid}; this user (uid {os.geteuid()}) "
                "cannot give a rewritten file the same owner and group, so it is not replaced"
            ) from None
    os.fchmod(fd, stat.S_IMODE(like.st_mode))  # after chown, which may clear set-id bits
    if source is None or not hasattr(os, "listxattr"):
        return
    try:
        names = os.listxattr(source)
    except OSError:
        return
    for name in names:  # POSIX ACLs live here too (system.posix_acl_access)
        try:
            os.setxattr(fd, name, os.getxattr(source, name))
        except OSError:
            pass  # security.* needs privileges; the mode and owner are what matter to Codex


def write_temp(folder: Path, produce: Callable[[BinaryIO], None], like: os.stat_result,
               source: Path | None, target: Path) -> Path:
    """A new temporary file in ``folder`` holding what ``produce`` writes, with ``like``'s attributes,
    fsynced. Removed again if anything fails."""
    fd, tmp = tempfiles.session_tmp(folder)
    try:
        with os.fdopen(fd, "wb") as f:
            produce(f)
            f.flush()
            _finish(f.fileno(), like, source, target)
        return tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _finish(fd: int, like: os.stat_result, source: Path | None, target: Path) -> None:
    keep_attributes(fd, like, source, target)
    os.fsync(fd)


def temp_copy(folder: Path, plain: Path, compress: bool, like: os.stat_result, source: Path | None,
              target: Path, sync: bool = True) -> Path:
    """A temporary file in ``folder`` holding the bytes of ``plain`` (compressed for a ``.zst``), with
    ``like``'s attributes, fsynced. A plain file on the folder's own file system is given a second name
    there instead of being copied: it is a private scratch file (a fix's last pass) that nothing else
    writes, and a gigabyte copied is a second or more. ``sync=False``: a second name is not fsynced
    here; the caller does it (``fsync_file``) before anything relies on it."""
    if not compress:
        tmp = tempfiles.session_tmp_name(folder)
        try:
            os.link(plain, tmp)
        except OSError:
            pass  # another file system (a tmpfs /tmp), or one without hard links: copied below
        else:
            try:
                fd = os.open(tmp, os.O_RDONLY)
                try:
                    if sync:
                        _finish(fd, like, source, target)
                    else:
                        keep_attributes(fd, like, source, target)
                finally:
                    os.close(fd)
                return tmp
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
    return write_temp(folder, copy_from(plain, compress), like, source, target)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_from(plain: Path, compress: bool) -> Callable[[BinaryIO], None]:
    """A producer copying ``plain``, compressing it when the rollout is a ``.zst``; a plain copy is made
    by the kernel where it can (store/ranges.py)."""

    def produce(out: BinaryIO) -> None:
        import shutil

        with open(plain, "rb") as src:
            if compress:
                import zstandard

                with zstandard.ZstdCompressor(level=3).stream_writer(out, closefd=False) as writer:
                    shutil.copyfileobj(src, writer, CHUNK)
            else:
                copy_whole(src.fileno(), out)

    return produce


def copy_whole(fd: int, out: BinaryIO) -> None:
    """Append every byte of ``fd`` to ``out`` (a file), by the kernel where it can."""
    from rollout_doctor.store.ranges import RangeWriter

    out.flush()
    writer = RangeWriter(out.fileno())
    writer.copy(fd, 0, os.fstat(fd).st_size)
    writer.close()


def copy_fd(fd: int) -> Callable[[BinaryIO], None]:
    def produce(out: BinaryIO) -> None:
        offset = 0
        while data := os.pread(fd, CHUNK, offset):
            out.write(data)
            offset += len(data)

    return produce


def ensure_not_live(path: Path, force: bool) -> list[str]:
    """Refuse when a running process could still write to ``path``; with ``force``, return the warning
    that says what the rewrite risks instead."""
    holders = liveness.writers(path)
    if not holders:
        return []
    who = liveness.describe(holders)
    if not force:
        raise RefusedToWrite(
            f"{path}: a running process may still write to it: {who}. Not modified: finish that session "
            "first, or use --force (what that process writes afterwards then goes to the replaced file, not to "
            "the session)"
        )
    return [(f"{path}: rewritten although {who} (--force): what it writes from now on goes to the replaced "
             "file, not to the session")]


def kept_name(path: Path) -> Path:
    """Where the replaced original of a live rollout is kept (--force): beside it, hidden, named after it
    but cut to fit the file system's limit on a name (a long rollout name plus the suffix may not)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    suffix = f"-{stamp}-{os.getpid()}"
    room = NAME_MAX - len(KEPT_PREFIX.encode()) - len(suffix.encode())
    stem = os.fsencode(path.name)[:room].decode("utf-8", "ignore") if room > 0 else ""
    return path.parent / f"{KEPT_PREFIX}{stem}{suffix}"


def replace_checked(path: Path, tmp: Path, expected: FileState, keep: bool = False) -> Path | None:
    """Move ``tmp`` over ``path`` if ``path`` is still exactly ``expected``, then give it back
    ``expected``'s access and modification times; else refuse, losing nothing.

    ``keep`` (a live writer, --force): the replaced original stays reachable under ``kept_name``, where
    that writer's later appends land; if that name cannot be made (no hard links, a name too long), the
    file is not replaced. Returns the kept name."""
    fd = open_regular(path)
    link: Path | None = None
    try:
        now = os.fstat(fd)
        if not expected.matches(now) or (not expected.unchanged_since(now) and sha256_fd(fd) != expected.sha256):
            raise RefusedToWrite(f"{path}: changed since it was read (another process is writing it?); not replaced")
        checked = os.fstat(fd)
        if not expected.matches(checked):
            raise RefusedToWrite(f"{path}: changed while it was being checked; not replaced")
        link = _link_original(path, keep)
        if keep and link is None:
            raise RefusedToWrite(
                f"{path}: --force needs a second name for the replaced original (so that what the running "
                "process writes next is not lost), and this file system cannot make one; not replaced")
        stage("checked")
        at_path = os.stat(path)
        if (at_path.st_dev, at_path.st_ino) != (checked.st_dev, checked.st_ino):
            raise RefusedToWrite(f"{path}: was replaced by another program since it was read; not replaced")
        os.replace(tmp, path)
        stage("swapped")
        # `codex resume --last` (and `guard --last`) pick the session with the newest modification time:
        # a rewrite must not make an old session the newest (seen with 0.169.0 and 0.171.0).
        os.utime(path, ns=(expected.atime_ns or checked.st_atime_ns, expected.mtime_ns))
        later = os.fstat(fd)
        if (later.st_size, later.st_mtime_ns) != (checked.st_size, checked.st_mtime_ns):
            put_back(path, fd, link)
            link = None
            raise RefusedToWrite(
                f"{path}: another process wrote to it while it was being replaced; the original, with what "
                "was written meanwhile, is back in place and nothing was changed"
            )
        fsync_dir(path.parent)
        if keep:
            kept, link = link, None
            return kept
        return None
    finally:
        os.close(fd)
        if link is not None:
            link.unlink(missing_ok=True)


def _link_original(path: Path, keep: bool) -> Path | None:
    """A second name for the original inode, so it can go back exactly; None where links fail."""
    if keep:
        name = kept_name(path)
    else:
        name = path.parent / (f"{tempfiles.SESSION_TMP_PREFIX}{os.getpid()}-{time.time_ns()}-orig"
                              f"{tempfiles.SESSION_TMP_SUFFIX}")
    try:
        os.link(path, name)
    except OSError:
        return None
    return name


def put_back(path: Path, old_fd: int, link: Path | None) -> None:
    """Undo a replace after the original changed in the last instant: the original inode (or, where
    hard links are unsupported, a copy of its bytes as they are now) goes back under its name."""
    if link is not None:
        os.replace(link, path)
    else:
        like = os.fstat(old_fd)
        tmp = write_temp(path.parent, copy_fd(old_fd), like, None, path)
        os.replace(tmp, path)
        os.utime(path, ns=(like.st_atime_ns, like.st_mtime_ns))
    fsync_dir(path.parent)


def suffix_of(path: Path) -> str:
    return ".jsonl.zst" if is_compressed(path) else ".jsonl"
