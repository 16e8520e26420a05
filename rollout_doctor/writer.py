"""Writing rollouts without ever losing a byte.

A fix is committed in this order; a process killed at any point leaves the rollout either as it was
or fixed, never torn, short or missing (tests/test_crash.py kills real runs at each step):

1. The new version goes to a temporary file in the rollout's own folder (``tempfiles.session_tmp``:
   nothing takes it for a session), written, fsynced, given the original's mode, owner and extended
   attributes. When the owner cannot be kept (an unprivileged run over someone else's file), nothing
   is replaced.
2. The original bytes, as stored (compressed or not), go to a new private backup folder (0700, files
   0600) outside every folder Codex searches for sessions, with a manifest holding the sha256 before
   and after. Both are fsynced before the original is touched.
3. The original is checked again (inode, size, mtime and sha256, read through one descriptor): if
   anything changed it since it was read, for instance a Codex appending, nothing is replaced.
4. ``os.replace`` moves the new version into place, then the folder is fsynced. A hard link to the
   original taken just before lets a change that slipped in between steps 3 and 4 be undone
   exactly: the original inode, with whatever was written to it, goes back under its name.
5. The manifest is marked committed. A run killed between 4 and 5 leaves a pending manifest whose
   sha256 after matches the file, which ``undo`` accepts as committed.

``undo`` restores from the newest committed backup the same way, after checking that the file is
still what the fix wrote (``--force`` restores anyway and first saves the current bytes next to the
backup).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import orjson

from rollout_doctor import liveness, tempfiles
from rollout_doctor.fixes import Piece
from rollout_doctor.lines import is_compressed, open_regular
from rollout_doctor.model import Rollout

MANIFEST = "manifest.json"
MANIFEST_VERSION = 2
CHUNK = 1 << 20
# Name of a hard link that keeps the replaced original reachable when --force rewrote a rollout a live
# process was writing: what it writes afterwards lands there. Hidden, and not a rollout-*.jsonl name.
KEPT_PREFIX = ".rollout-doctor-kept-"

# Test seam: called with the name of each step of a commit ("tmp-written", "backed-up", "checked",
# "replaced", "committed"). Tests set it to kill the process or to write to the rollout at that
# moment; it is None in every normal run.
STAGE_HOOK: Callable[[str], None] | None = None


class RefusedToWrite(Exception):
    """The file must not be replaced (it changed under us, or a process holds it open)."""


class WriteError(Exception):
    """Writing is impossible or unsafe for a reason that is not a bug: a bad backup location."""


def _stage(name: str) -> None:
    if STAGE_HOOK is not None:
        STAGE_HOOK(name)


@dataclass(frozen=True)
class FileState:
    size: int
    mtime_ns: int
    sha256: str
    ino: int = 0
    atime_ns: int = 0  # as it was before rollout-doctor read the file: a rewrite puts both times back

    @classmethod
    def of(cls, path: Path) -> FileState:
        fd = open_regular(path)
        try:
            return cls.of_fd(fd)
        finally:
            os.close(fd)

    @classmethod
    def of_fd(cls, fd: int) -> FileState:
        st = os.fstat(fd)
        return cls(st.st_size, st.st_mtime_ns, _sha256_fd(fd), st.st_ino, st.st_atime_ns)

    def matches(self, st: os.stat_result) -> bool:
        return (st.st_size, st.st_mtime_ns) == (self.size, self.mtime_ns) and (not self.ino or st.st_ino == self.ino)


def _sha256_fd(fd: int) -> str:
    digest = hashlib.sha256()
    offset = 0
    while True:
        data = os.pread(fd, CHUNK, offset)
        if not data:
            return digest.hexdigest()
        digest.update(data)
        offset += len(data)


def sha256_of(path: Path) -> str:
    with open(path, "rb") as f:
        return _sha256_fd(f.fileno())


def write_pieces(model: Rollout, pieces: list[Piece], out: BinaryIO) -> None:
    """Stream the new version: untouched lines are copied byte for byte from the source."""
    from rollout_doctor.synth import set_ordinal  # synth imports fixes; keep this module light

    default_terminator = model.terminator(0) if len(model) and model.terminator(0) else b"\n"
    last = len(pieces) - 1
    for n, piece in enumerate(pieces):
        if piece.origin is not None and piece.content is None and piece.ordinal is None:
            raw = model.raw(piece.origin)
            if n < last and not raw.endswith(b"\n"):
                raw += default_terminator
            out.write(raw)
            continue
        content = piece.content if piece.content is not None else model.content(piece.origin)  # type: ignore[arg-type]
        if piece.ordinal is not None:
            content = set_ordinal(content, piece.ordinal)
            if piece.origin == 0 and piece.content is None and model.has_bom:
                content = model.raw(0)[:3] + content
        terminator = model.terminator(piece.origin) if piece.origin is not None else default_terminator
        if n < last and not terminator:
            terminator = default_terminator
        out.write(content + terminator)


# --- where backups live --------------------------------------------------------------------------


def state_home() -> Path:
    """``$ROLLOUT_DOCTOR_HOME``, else ``$XDG_STATE_HOME/rollout-doctor``, else ``~/.local/state/rollout-doctor``."""
    override = os.environ.get("ROLLOUT_DOCTOR_HOME")
    if override:
        return Path(os.path.abspath(os.path.expanduser(override)))
    xdg = os.environ.get("XDG_STATE_HOME")
    # The XDG spec says a relative path there is invalid and must be ignored.
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "state"
    return base / "rollout-doctor"


def session_stores(path: Path | None = None) -> list[Path]:
    """Folders Codex searches for sessions: those of $CODEX_HOME and of the home ``path`` sits in."""
    homes = liveness.codex_homes_of(path) if path is not None else liveness.codex_homes_of(Path("/"))
    return [Path(os.path.realpath(home / name)) for home in homes for name in liveness.SESSION_ROOTS]


def backup_root(path: Path | None = None) -> Path:
    """The folder holding every backup; refuses one that lies where Codex looks for sessions."""
    root = state_home()
    real = Path(os.path.realpath(root))
    for store in session_stores(path):
        if real == store or store in real.parents:
            raise WriteError(
                f"backups would go to {root}, inside {store}, where Codex looks for sessions; "
                "set ROLLOUT_DOCTOR_HOME (or XDG_STATE_HOME) to a folder outside it"
            )
    return root / "backups"


def backups_for(path: Path) -> Path:
    real = os.path.realpath(path)
    key = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:20]
    return backup_root(Path(real)) / key


def _private_dir(path: Path) -> None:
    """Make ``path`` (and missing parents) and make sure only we can enter it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        st = os.stat(path)
    if st.st_uid != os.geteuid():
        raise WriteError(f"{path} belongs to uid {st.st_uid}, not to this user; backups must be private")
    if stat.S_IMODE(st.st_mode) != 0o700:
        os.chmod(path, 0o700)


def _fsync_dir(path: Path) -> None:
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


# --- temporary files that keep the original's attributes -----------------------------------------


class _HashingWriter:
    """Passes writes through to ``out`` and hashes them on the way."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.out.write(data)

    def flush(self) -> None:
        self.out.flush()


def _keep_attributes(fd: int, like: os.stat_result, source: Path | None, target: Path) -> None:
    """Give the file at ``fd`` the owner, mode and extended attributes of the original."""
    if (like.st_uid, like.st_gid) != (os.geteuid(), os.getegid()):
        try:
            os.fchown(fd, like.st_uid, like.st_gid)
        except PermissionError:
            raise RefusedToWrite(
                f"{target}: owned by uid {like.st_uid} gid {like.st_gid}; this user (uid {os.geteuid()}) "
                "cannot give a rewritten file the same owner, so it is not replaced"
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


def _write_tmp(folder: Path, produce: Callable[[BinaryIO], None], like: os.stat_result,
               source: Path | None, target: Path) -> tuple[Path, FileState]:
    fd, tmp = tempfiles.session_tmp(folder)
    try:
        with os.fdopen(fd, "wb") as f:
            hashing = _HashingWriter(f)
            produce(hashing)  # type: ignore[arg-type]
            f.flush()
            _keep_attributes(f.fileno(), like, source, target)
            os.fsync(f.fileno())
            st = os.fstat(f.fileno())
        return tmp, FileState(st.st_size, st.st_mtime_ns, hashing.digest.hexdigest(), st.st_ino)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def produce_from(plain: Path, compress: bool) -> Callable[[BinaryIO], None]:
    """A producer copying the finished plain file, compressing it when the original was ``.zst``."""

    def produce(out: BinaryIO) -> None:
        with open(plain, "rb") as src:
            if compress:
                import zstandard

                with zstandard.ZstdCompressor(level=3).stream_writer(out, closefd=False) as writer:
                    shutil.copyfileobj(src, writer, CHUNK)
            else:
                shutil.copyfileobj(src, out, CHUNK)

    return produce


# --- the replace itself --------------------------------------------------------------------------


def _replace_checked(path: Path, tmp: Path, expected: FileState, keep_link: bool = False) -> Path | None:
    """Move ``tmp`` over ``path`` if ``path`` is still exactly ``expected``; else refuse, losing nothing.

    Returns the hard link kept to the replaced original when ``keep_link`` (see KEPT_PREFIX)."""
    fd = os.open(path, os.O_RDONLY)
    link: Path | None = None
    try:
        now = os.fstat(fd)
        if not expected.matches(now) or _sha256_fd(fd) != expected.sha256:
            raise RefusedToWrite(f"{path}: changed since it was read (another process is writing it?); not replaced")
        checked = os.fstat(fd)
        if not expected.matches(checked):
            raise RefusedToWrite(f"{path}: changed while it was being checked; not replaced")
        link = _link_original(path, tmp.parent, keep_link)
        _stage("checked")
        at_path = os.stat(path)
        if (at_path.st_dev, at_path.st_ino) != (checked.st_dev, checked.st_ino):
            raise RefusedToWrite(f"{path}: was replaced by another program since it was read; not replaced")
        os.replace(tmp, path)
        # `codex resume --last` (and `guard --last`) pick the session with the newest modification time:
        # a rewrite must not make an old session the newest (seen with 0.169.0 and 0.171.0).
        os.utime(path, ns=(expected.atime_ns or checked.st_atime_ns, expected.mtime_ns))
        later = os.fstat(fd)
        if (later.st_size, later.st_mtime_ns) != (checked.st_size, checked.st_mtime_ns):
            _put_back(path, fd, link)
            link = None
            raise RefusedToWrite(
                f"{path}: another process wrote to it while it was being replaced; the original, with what "
                "was written meanwhile, is back in place and nothing was changed"
            )
        _fsync_dir(path.parent)
        if keep_link:
            kept, link = link, None
            return kept
        return None
    finally:
        os.close(fd)
        if link is not None:
            link.unlink(missing_ok=True)


def _link_original(path: Path, folder: Path, keep: bool) -> Path | None:
    """A second name for the original inode, so it can go back exactly; None where links are unsupported."""
    if keep:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        name = folder / f"{KEPT_PREFIX}{path.name}-{stamp}-{os.getpid()}"
    else:
        name = folder / f"{tempfiles.SESSION_TMP_PREFIX}{os.getpid()}-{time.time_ns()}-orig{tempfiles.SESSION_TMP_SUFFIX}"
    try:
        os.link(path, name)
    except OSError:
        return None
    return name


def _put_back(path: Path, old_fd: int, link: Path | None) -> None:
    """Undo a replace after the original changed in the last instant: the original inode (or, where
    hard links are unsupported, a copy of its bytes as they are now) goes back under its name."""
    if link is not None:
        os.replace(link, path)
    else:
        like = os.fstat(old_fd)

        def produce(out: BinaryIO) -> None:
            offset = 0
            while data := os.pread(old_fd, CHUNK, offset):
                out.write(data)
                offset += len(data)

        tmp, _state = _write_tmp(path.parent, produce, like, None, path)
        os.replace(tmp, path)
    _fsync_dir(path.parent)


def ensure_not_live(path: Path, force: bool) -> list[str]:
    """Refuse when a running process could still write to ``path``; with ``force``, return the
    warning that says what the rewrite risks instead."""
    holders = liveness.writers(path)
    if not holders:
        return []
    who = liveness.describe(holders)
    if not force:
        raise RefusedToWrite(
            f"{path}: a running process may still write to it: {who}. Not modified: finish that Codex session "
            "first, or use --force (what that process writes afterwards then goes to the replaced file, not to "
            "the session)"
        )
    return [(f"{path}: rewritten although {who} (--force): what it writes from now on goes to the replaced "
             "file, not to the session")]


# --- backups -------------------------------------------------------------------------------------


def _new_backup_folder(root: Path) -> Path:
    ns = time.time_ns()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(ns // 1_000_000_000)) + f"-{ns % 1_000_000_000:09d}"
    for n in range(1000):
        folder = root / (stamp + (f"-{n}" if n else ""))
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(folder, 0o700)
        return folder
    raise WriteError(f"{root}: could not make a new backup folder")


def _copy_private(src: Path, dst: Path) -> str:
    """Copy ``src`` to a new 0600 file ``dst``, fsynced; returns the sha256 of the bytes copied."""
    digest = hashlib.sha256()
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out, open(src, "rb") as f:
        while data := f.read(CHUNK):
            digest.update(data)
            out.write(data)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def make_backup(path: Path, before: FileState, after: FileState, like: os.stat_result) -> Path:
    """Copy the original bytes to a new private backup folder with a pending manifest."""
    root = backups_for(path)
    _private_dir(root.parent.parent)
    _private_dir(root.parent)
    _private_dir(root)
    folder = _new_backup_folder(root)
    copy = folder / ("original" + (".jsonl.zst" if is_compressed(path) else ".jsonl"))
    try:
        if _copy_private(path, copy) != before.sha256:
            raise RefusedToWrite(f"{path}: changed since it was read (seen while backing it up); not replaced")
        manifest = {
            "version": MANIFEST_VERSION,
            "path": _text(path),
            "path_bytes": os.fsencode(path).hex(),  # exact, whatever bytes the name holds
            "backup": copy.name,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "pid": os.getpid(),
            "state": "pending",
            "size_before": before.size,
            "sha256_before": before.sha256,
            "size_after": after.size,
            "sha256_after": after.sha256,
            "mode": stat.S_IMODE(like.st_mode),
            "uid": like.st_uid,
            "gid": like.st_gid,
            "restored": False,
        }
        _write_manifest(folder, manifest)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _fsync_dir(root)
    return folder


def _write_manifest(folder: Path, manifest: dict[str, object]) -> None:
    tmp = folder / (MANIFEST + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, folder / MANIFEST)
    _fsync_dir(folder)


def read_manifest(folder: Path) -> dict[str, object]:
    manifest = orjson.loads((folder / MANIFEST).read_bytes())
    if not isinstance(manifest, dict):
        raise ValueError(f"{folder / MANIFEST}: not a manifest")  # noqa: TRY004 - callers skip bad manifests by ValueError
    return manifest


def _update_manifest(folder: Path, **changes: object) -> dict[str, object]:
    manifest = read_manifest(folder)
    manifest.update(changes)
    _write_manifest(folder, manifest)
    return manifest


def _text(path: Path) -> str:
    """A path as JSON can hold it: undecodable bytes of a name as ``\\xNN`` escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _manifest_path(manifest: dict[str, object]) -> Path:
    raw = manifest.get("path_bytes")
    return Path(os.fsdecode(bytes.fromhex(raw))) if isinstance(raw, str) else Path(str(manifest.get("path")))


@dataclass(frozen=True)
class Committed:
    backup: Path
    warnings: list[str] = field(default_factory=list)
    kept: Path | None = None  # with --force over a live writer: where that writer's later output goes


def commit(path: Path, plain_result: Path, before: FileState, force: bool = False) -> Committed:
    """Back up ``path``, then atomically replace it with ``plain_result`` (compressed again for a
    ``.jsonl.zst``). Raises RefusedToWrite, leaving ``path`` as it is, when that would lose anything."""
    real = Path(os.path.realpath(path))  # replace the file a symlink points to, never the link itself
    backups_for(real)  # refuse a bad backup location before any work
    warnings = ensure_not_live(real, force)
    tempfiles.sweep_folder(real.parent)
    like = os.stat(real)
    tmp, after = _write_tmp(real.parent, produce_from(plain_result, is_compressed(real)), like, real, real)
    folder: Path | None = None
    replaced = False
    try:
        _stage("tmp-written")
        folder = make_backup(real, before, after, like)
        _stage("backed-up")
        # Again, now that the slow part is done: a Codex may have opened the session meanwhile.
        warnings = ensure_not_live(real, force)
        kept = _replace_checked(real, tmp, before, keep_link=bool(warnings))
        replaced = True
        _stage("replaced")
        _update_manifest(folder, state="committed")
        _stage("committed")
    except BaseException:
        tmp.unlink(missing_ok=True)
        if folder is not None and not replaced:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    if kept is not None:
        warnings = [w + f"; it is kept as {kept}" for w in warnings]
    return Committed(folder, warnings, kept)


# --- undo ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backup:
    folder: Path
    manifest: dict[str, object]
    state: str  # "committed", "restored", or "interrupted" (the fix never replaced the file)

    @property
    def created(self) -> str:
        return str(self.manifest.get("created"))

    @property
    def path(self) -> str:
        return str(self.manifest.get("path"))

    @property
    def restored(self) -> bool:
        return self.state == "restored"

    @property
    def copy(self) -> Path:
        return self.folder / str(self.manifest["backup"])

    def describe(self) -> str:
        before, after = str(self.manifest.get("sha256_before")), str(self.manifest.get("sha256_after"))
        return (f"{self.manifest.get('size_before')} bytes, sha256 {before[:12]}… before the fix; "
                f"{self.manifest.get('size_after')} bytes, sha256 {after[:12]}… after")


def _current_sha(path: Path, cache: dict[Path, str | None]) -> str | None:
    if path not in cache:
        try:
            cache[path] = sha256_of(path)
        except OSError:
            cache[path] = None
    return cache[path]


def _backup_in(folder: Path, cache: dict[Path, str | None]) -> Backup | None:
    try:
        manifest = read_manifest(folder)
    except (OSError, ValueError):
        return None
    if not manifest.get("sha256_after") or not isinstance(manifest.get("backup"), str):
        return None  # a version 1 manifest of a fix that never finished
    if manifest.get("restored"):
        return Backup(folder, manifest, "restored")
    state = manifest.get("state", "committed")  # version 1 wrote sha256_after only once committed
    if state == "pending":
        # Killed between the replace and the manifest update, or before the replace: the file says which.
        done = _current_sha(_manifest_path(manifest), cache) == manifest["sha256_after"]
        state = "committed" if done else "interrupted"
    return Backup(folder, manifest, str(state))


def list_backups(path: Path) -> list[Backup]:
    """The backups of one rollout, oldest first."""
    root = backups_for(path)
    if not root.is_dir():
        return []
    cache: dict[Path, str | None] = {}
    found = (_backup_in(folder, cache) for folder in sorted(root.iterdir()) if folder.is_dir())
    return [b for b in found if b is not None]


def all_backups() -> Iterable[Backup]:
    root = backup_root()
    if not root.is_dir():
        return []
    cache: dict[Path, str | None] = {}
    out = []
    for key in sorted(root.iterdir()):
        for folder in sorted(key.iterdir()) if key.is_dir() else []:
            backup = _backup_in(folder, cache) if folder.is_dir() else None
            if backup is not None:
                out.append(backup)
    return out


@dataclass(frozen=True)
class Restored:
    backup: Backup
    already: bool = False  # the file already held the backed-up bytes (an undo killed half-way)
    saved: Path | None = None  # with --force: where the bytes the undo replaced were saved
    warnings: list[str] = field(default_factory=list)


def restore(path: Path, force: bool = False) -> Restored:
    """Put back the version saved before the newest fix that has not been undone yet."""
    real = Path(os.path.realpath(path))
    candidates = [b for b in list_backups(real) if b.state == "committed"] or _moved_here(real)
    if not candidates:
        raise LookupError(f"{path}: no backup to restore (`rollout-doctor undo --list` shows them all)")
    backup = candidates[-1]
    manifest = backup.manifest
    if sha256_of(backup.copy) != manifest["sha256_before"]:
        raise RefusedToWrite(f"{backup.copy}: the backup does not match its manifest; not restored")
    if not real.exists():
        _restore_missing(real, backup)
        _update_manifest(backup.folder, restored=True, state="restored")
        return Restored(backup)
    current = FileState.of(real)
    if current.sha256 == manifest["sha256_before"]:
        _update_manifest(backup.folder, restored=True, state="restored")
        return Restored(backup, already=True)
    changed = current.sha256 != manifest["sha256_after"]
    if changed and not force:
        raise RefusedToWrite(
            f"{path}: changed since rollout-doctor fixed it (Codex appended to it?); undo would lose those "
            "changes. Use --force to restore anyway (the current bytes are saved next to the backup first)"
        )
    warnings = ensure_not_live(real, force)
    saved = None
    if changed:
        saved = backup.folder / f"replaced-by-undo-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{time.time_ns() % 10**9:09d}{_suffix(real)}"
        if _copy_private(real, saved) != current.sha256:
            saved.unlink(missing_ok=True)
            raise RefusedToWrite(f"{path}: changed while it was being saved; not restored")
    like = os.stat(real)
    tmp, _state = _write_tmp(real.parent, produce_from(backup.copy, False), like, real, real)
    try:
        kept = _replace_checked(real, tmp, current, keep_link=bool(warnings))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if kept is not None:
        warnings = [w + f"; it is kept as {kept}" for w in warnings]
    _update_manifest(backup.folder, restored=True, state="restored",
                     restored_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                     saved_by_undo=saved.name if saved else None)
    return Restored(backup, saved=saved, warnings=warnings)


def _moved_here(real: Path) -> list[Backup]:
    """Backups made under another path of the very bytes ``real`` holds now: Codex moves a rollout to
    archived_sessions when a session is archived, and the fix it had is still worth undoing."""
    try:
        current = sha256_of(real)
    except OSError:
        return []
    return [b for b in all_backups() if b.state == "committed" and b.manifest.get("sha256_after") == current]


def _suffix(path: Path) -> str:
    return ".jsonl.zst" if is_compressed(path) else ".jsonl"


def _restore_missing(real: Path, backup: Backup) -> None:
    manifest = backup.manifest
    fd, tmp = tempfiles.session_tmp(real.parent)
    try:
        with os.fdopen(fd, "wb") as out, open(backup.copy, "rb") as src:
            shutil.copyfileobj(src, out, CHUNK)
            out.flush()
            try:
                os.fchown(out.fileno(), int(manifest.get("uid", -1)), int(manifest.get("gid", -1)))  # type: ignore[arg-type]
            except PermissionError:
                pass  # the file is gone; better ours than not back at all
            os.fchmod(out.fileno(), int(manifest.get("mode", 0o600)))  # type: ignore[arg-type]
            os.fsync(out.fileno())
        if real.exists():
            raise RefusedToWrite(f"{real}: appeared while it was being restored; not replaced")
        os.replace(tmp, real)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(real.parent)
