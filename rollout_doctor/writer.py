"""Writing rollouts without ever losing a byte.

* The new version is streamed to a temporary file in the same folder (named so that nothing takes it
  for a session: it neither starts with ``rollout-`` nor ends in ``.jsonl``), fsynced, given the
  original's mode and owner, then moved over the original with ``os.replace``, and the folder fsynced.
* Before that, the original bytes go to a private backup (folder 0700, files 0600) outside
  ``$CODEX_HOME``, with a manifest holding the sha256 before and after; ``undo`` restores from it.
* The original is re-checked (size, mtime, sha256) just before the replace: if anything changed it since
  it was read (a live Codex appending), nothing is replaced.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson

from rollout_doctor.fixes import Piece
from rollout_doctor.lines import is_compressed, split_terminator
from rollout_doctor.model import Rollout

TMP_PREFIX = ".rollout-doctor-"
TMP_SUFFIX = ".tmp"
MANIFEST = "manifest.json"


class RefusedToWrite(Exception):
    """The file must not be replaced (it changed under us, or a process holds it open)."""


@dataclass(frozen=True)
class FileState:
    size: int
    mtime_ns: int
    sha256: str

    @classmethod
    def of(cls, path: Path) -> FileState:
        st = os.stat(path)
        return cls(st.st_size, st.st_mtime_ns, sha256_of(path))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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


def state_home() -> Path:
    """Where backups live: never under $CODEX_HOME, where Codex looks for sessions."""
    override = os.environ.get("ROLLOUT_DOCTOR_HOME")
    if override:
        return Path(override)
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "rollout-doctor"


def backups_for(path: Path) -> Path:
    key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:20]
    return state_home() / "backups" / key


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def make_backup(path: Path, before: FileState) -> Path:
    """Copy the original bytes (as stored, compressed or not) to a new private backup folder."""
    root = backups_for(path)
    _private_dir(root.parent.parent)
    _private_dir(root.parent)
    _private_dir(root)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"-{time.time_ns() % 1_000_000_000:09d}"
    folder = root / stamp
    folder.mkdir(mode=0o700)
    copy = folder / ("original" + (".jsonl.zst" if is_compressed(path) else ".jsonl"))
    fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as dst, open(path, "rb") as src:
        shutil.copyfileobj(src, dst, 1 << 20)
        dst.flush()
        os.fsync(dst.fileno())
    if sha256_of(copy) != before.sha256:
        shutil.rmtree(folder, ignore_errors=True)
        raise RefusedToWrite(f"{path}: the file changed while it was being backed up")
    manifest = {
        "version": 1,
        "path": str(path.resolve()),
        "backup": copy.name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "size_before": before.size,
        "sha256_before": before.sha256,
        "sha256_after": None,
        "mode": stat.S_IMODE(os.stat(path).st_mode),
        "restored": False,
    }
    _write_manifest(folder, manifest)
    _fsync_dir(folder)
    return folder


def _write_manifest(folder: Path, manifest: dict[str, object]) -> None:
    tmp = folder / (MANIFEST + TMP_SUFFIX)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, folder / MANIFEST)


def read_manifest(folder: Path) -> dict[str, object]:
    return orjson.loads((folder / MANIFEST).read_bytes())


def atomic_replace(path: Path, produce: Callable[[BinaryIO], None], before: FileState | None) -> FileState:
    """Replace ``path`` with what ``produce`` writes; refuse if it changed since ``before`` was taken."""
    st = os.stat(path)
    fd, tmp_name = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=TMP_SUFFIX, dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            produce(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except PermissionError:
            pass  # not ours to give away; the mode is still kept
        if before is not None:
            now = os.stat(path)
            if (now.st_size, now.st_mtime_ns) != (before.size, before.mtime_ns) or sha256_of(path) != before.sha256:
                raise RefusedToWrite(f"{path}: changed since it was read (another process is writing it?); not replaced")
        after = FileState.of(tmp)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        return after
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
                    shutil.copyfileobj(src, writer, 1 << 20)
            else:
                shutil.copyfileobj(src, out, 1 << 20)

    return produce


def commit(path: Path, plain_result: Path, before: FileState) -> Path:
    """Back up ``path``, then atomically replace it with ``plain_result``; returns the backup folder."""
    folder = make_backup(path, before)
    try:
        after = atomic_replace(path, produce_from(plain_result, is_compressed(path)), before)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    manifest = read_manifest(folder)
    manifest["sha256_after"] = after.sha256
    manifest["size_after"] = after.size
    _write_manifest(folder, manifest)
    return folder


@dataclass(frozen=True)
class Backup:
    folder: Path
    manifest: dict[str, object]

    @property
    def created(self) -> str:
        return str(self.manifest.get("created"))

    @property
    def restored(self) -> bool:
        return bool(self.manifest.get("restored"))


def list_backups(path: Path) -> list[Backup]:
    root = backups_for(path)
    if not root.is_dir():
        return []
    found = []
    for folder in sorted(root.iterdir()):
        try:
            manifest = read_manifest(folder)
        except (OSError, ValueError):
            continue
        if manifest.get("sha256_after"):
            found.append(Backup(folder, manifest))
    return found


def all_backups() -> Iterable[Backup]:
    root = state_home() / "backups"
    if not root.is_dir():
        return []
    out = []
    for key in sorted(root.iterdir()):
        for folder in sorted(key.iterdir()) if key.is_dir() else []:
            try:
                manifest = read_manifest(folder)
            except (OSError, ValueError):
                continue
            if manifest.get("sha256_after"):
                out.append(Backup(folder, manifest))
    return out


def restore(path: Path, force: bool = False) -> Backup:
    """Put back the version saved before the last fix that has not been undone yet."""
    candidates = [b for b in list_backups(path) if not b.restored]
    if not candidates:
        raise LookupError(f"{path}: no backup to restore")
    backup = candidates[-1]
    copy = backup.folder / str(backup.manifest["backup"])
    if sha256_of(copy) != backup.manifest["sha256_before"]:
        raise RefusedToWrite(f"{copy}: the backup does not match its manifest; not restored")
    if path.exists():
        current = FileState.of(path)
        if current.sha256 != backup.manifest["sha256_after"] and not force:
            raise RefusedToWrite(
                f"{path}: changed since rollout-doctor fixed it (Codex appended to it?); "
                "undo would lose those changes. Use --force to restore anyway"
            )
        atomic_replace(path, produce_from(copy, False), current)
    else:
        fd, tmp_name = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=TMP_SUFFIX, dir=path.parent)
        with os.fdopen(fd, "wb") as f, open(copy, "rb") as src:
            shutil.copyfileobj(src, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_name, int(backup.manifest.get("mode", 0o600)))  # type: ignore[arg-type]
        os.replace(tmp_name, path)
    manifest = dict(backup.manifest)
    manifest["restored"] = True
    _write_manifest(backup.folder, manifest)
    return backup


def line_terminator_of(raw: bytes) -> bytes:
    return split_terminator(raw)[1]
