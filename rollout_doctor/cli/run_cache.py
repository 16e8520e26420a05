"""The output of a whole ``check`` run, replayed when nothing it read has changed since.

A re-check of a home where nothing changed should cost little more than Python's start-up and a
``stat`` of each file. Even with every report cached (core/report_cache.py), a run imports the engine
and the format's rules (most of its time), lists the processes that hold the files, and renders the
report again. So ``check`` (main.py) first looks for an entry of this exact run, taken before
anything of the engine is imported, and prints what that run printed if:

* the arguments, the current folder, the whole environment, whether stdout is a terminal and its size,
  and the code (cache_place.fingerprint, and code_stamp of cli/) are the same;
* every folder the run walked has the same inode, mtime and ctime (no rollout was added, removed or
  renamed), every file in them the same device, inode, size, mtime and ctime, last changed more
  than a tick of its clock before the run began (a rewrite within one tick keeps every time:
  ``sampling.racy``), and
  the same sample digest of its bytes (core/sampling.py), and config.toml and
  session_index.jsonl (Format.report_inputs) are as they were;
* no process has any of the files, or their writer locks, open now (a session a client holds is
  reported as in progress, so the run is done again, which says by whom).

Only runs that ended with 0 or 1, whose paths were all folders or files (not session ids), and where no
symbolic link was met, are kept. The entry is marshal data (no code runs when it is read) behind a digest.

A run that checked and printed reports keeps them too, beside the entry (``.reports``: the pickled list, its
digest in the entry). When everything is as the entry says but some sessions changed in place (grew, as
Codex makes them grow, or anything else: a file replaced, added or removed changes its folder), the run
is not replayed but *continued* (``continuing``): the check takes the kept reports of every other file and
checks only the changed ones as a full run would (a grown one's report continued over what was
appended, when it can be), then prints as a full run does. A re-check of a home after Codex appended a
turn to a few of its sessions then costs what those sessions cost, not a look-up of every file's report,
its home and its locks (0.3 ms a file, 2026-11-29).
"""

from __future__ import annotations

import io
import marshal
import os
import sys
import time

from rollout_doctor.cli.run_files import changed_files, held
from rollout_doctor.core.blake import blake2b

TYPE_CHECKING = False  # not typing's: importing typing costs 2 ms of a replay
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

KIND = "runs"
MAGIC = b"rollout-doctor run\n"
REPORTS = ".reports"  # the reports of the run, beside its entry (continuing)
NOISY_ENV = frozenset({"OLDPWD", "_"})  # set by the shell to what ran last: no bearing on a report


def _key(command: str, args: list[str]) -> str | None:
    from rollout_doctor.core.cache_place import code_stamp, fingerprint, key_name

    stdout = sys.stdout
    try:
        tty = stdout.isatty()
        size = os.get_terminal_size(stdout.fileno()) if tty else None
    except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
        return None
    env = sorted((k, v) for k, v in os.environ.items() if k not in NOISY_ENV)
    return key_name(command, repr(args), os.getcwd(), repr(env), repr((tty, size)), fingerprint(), code_stamp("cli"))


def _entry_path(name: str) -> str | None:
    from rollout_doctor.core import cache_place

    root = cache_place.folder()
    if root is None or not os.path.isdir("/proc/self/fd"):
        return None
    return os.path.join(root, KIND, name)


def replay(command: str, args: list[str]) -> int | None:
    """Print what the same run printed and return its exit code, if nothing it read changed; else None
    (having noted, if only sessions changed, what ``continuing`` gives the run done instead)."""
    global _continuing, _replayed
    if "--no-cache" in args or "-h" in args or "--help" in args:
        return None
    try:
        name = _key(command, args)
        _replayed = (command, list(args), name)
        path = _entry_path(name) if name is not None else None
        if path is None:
            return None
        from rollout_doctor.core.cache_place import private

        if not private(os.path.dirname(path), create=False):
            return None
        with open(path, "rb") as f:
            data = f.read()
        if not data.startswith(MAGIC) or blake2b(data[len(MAGIC) + 16 :], digest_size=16).digest() != \
                data[len(MAGIC) : len(MAGIC) + 16]:
            return None
        entry = marshal.loads(data[len(MAGIC) + 16 :])
        changed = changed_files(entry)
        if changed is None or held(entry):
            return None
        if changed:
            _continuing = (name, path, entry, frozenset(changed)) if "reports" in entry else None
            return None
        out, code = entry["stdout"], entry["code"]
    except Exception:  # noqa: BLE001 - whatever is wrong with an entry, the run is simply done again
        return None
    sys.stdout.flush()
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    return code


# What ``replay`` found for the run it could not replay, when only sessions changed: the run's name (its
# key), the entry's path, the entry, and the changed files (absolute paths); taken by ``continuing``, and
# forgotten when the command ends (``forget``).
_continuing: tuple[str, str, dict[str, Any], frozenset[str]] | None = None


def forget() -> None:
    global _continuing, _replayed
    _continuing = _replayed = None


# The key ``replay`` worked out, for the Recorder of the same run (its code stamps read the code's folder).
_replayed: tuple[str, list[str], str | None] | None = None


def continuing() -> tuple[list[Any], frozenset[str], frozenset[str]] | None:
    """The reports the last run of this command kept, in the order it printed them, the files among them
    that changed since, and the files and locks no process held when ``replay`` looked (absolute paths),
    when the replay found nothing else changed, for the run being recorded now (the same key: arguments,
    folder, environment, code); None otherwise. Taken once."""
    global _continuing
    found, _continuing = _continuing, None
    if found is None or _recording is None or _recording.name != found[0]:
        return None
    _name, path, entry, changed = found
    try:
        with open(path + REPORTS, "rb") as f:
            data = f.read()
        if blake2b(data, digest_size=16).digest() != entry["reports"]:
            return None
        import pickle

        reports = pickle.loads(data)
        kept = {os.path.abspath(report.path) for report in reports}
    except Exception:  # noqa: BLE001 - a missing, torn or foreign file: the run is done in full
        return None
    free = frozenset([*(file for file, _ident, _sample in entry["files"]), *entry["locks"]])
    return (reports, changed, free) if changed <= kept else None


class _Tee(io.RawIOBase):
    """Everything written to stdout, kept as well."""

    def __init__(self, out: Any) -> None:
        self.out, self.kept = out, bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.kept += data
        self.out.write(data)
        return len(data)

    def flush(self) -> None:
        self.out.flush()

    def isatty(self) -> bool:
        return self.out.isatty()

    def fileno(self) -> int:
        return self.out.fileno()


class Recorder:
    """Runs a command with stdout kept, then stores the run if it may be replayed (module docstring)."""

    def __init__(self, command: str, args: list[str], paths: list[Path] | None) -> None:
        self.command, self.args, self.paths = command, args, paths
        if "--no-cache" in args:
            self.name = None
        elif _replayed is not None and _replayed[:2] == (command, args):
            self.name = _replayed[2]  # moments ago, in this process, by the replay (forgotten with the command)
        else:
            self.name = _key(command, args)
        self.started = time.time()
        self.tee: _Tee | None = None
        self.saved: Any = None
        self.reports: list[Any] | None = None  # what the check printed (keep_reports)

    def __enter__(self) -> Recorder:
        global _recording
        _recording = self
        if self.name is not None and _entry_path(self.name) is not None:
            stdout = sys.stdout
            try:
                self.tee = _Tee(stdout.buffer)
                sys.stdout.flush()
                self.saved = stdout
                sys.stdout = io.TextIOWrapper(self.tee, encoding=stdout.encoding, errors=stdout.errors,  # type: ignore[arg-type]
                                              line_buffering=stdout.line_buffering, write_through=True)
            except (AttributeError, ValueError, io.UnsupportedOperation):
                self.tee = None
        return self

    def __exit__(self, *exc: object) -> None:
        global _recording
        _recording = None
        if self.saved is not None:
            sys.stdout.flush()
            sys.stdout = self.saved

    def finish(self, code: int) -> None:
        """Keep the run, when it may be replayed."""
        if self.tee is None or code not in (0, 1) or self.name is None:
            return
        try:
            entry = self._entry(code)
        except OSError:
            return
        path = _entry_path(self.name)
        if entry is None or path is None:
            return
        from rollout_doctor.core.cache_place import private

        folder, name = os.path.split(path)
        if not private(folder, create=True):
            return
        if self.reports is not None:
            import pickle

            try:
                kept = pickle.dumps(self.reports, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - a report that cannot be pickled: the run is replayed, not continued
                kept = None
            # The reports first: an entry is never read with the reports of another run (their digest).
            if kept is not None and _write(folder, name + REPORTS, kept):
                entry["reports"] = blake2b(kept, digest_size=16).digest()
        data = marshal.dumps(entry)
        _write(folder, name, MAGIC + blake2b(data, digest_size=16).digest() + data)

    def _entry(self, code: int) -> dict[str, Any] | None:
        from pathlib import Path

        from rollout_doctor.cli.run_inputs import walk, watch_registries
        from rollout_doctor.core.sampling import identity, racy
        from rollout_doctor.formats.claude.home import default_roots as claude_roots
        from rollout_doctor.formats.codex.format import CODEX
        from rollout_doctor.formats.codex.home import default_roots
        from rollout_doctor.store.places import writer_locks

        homes = [*default_roots(), *claude_roots()]  # what check walks with no path (commands/check.py)
        roots = self.paths or [p for p in homes if p.exists()]
        # A default folder that does not exist yet (archived_sessions) must still not exist at a replay.
        absent = [] if self.paths else [str(p) for p in homes if not os.path.lexists(p)]
        if not roots:
            return None
        walked = walk(roots, self.started)
        if walked is None:
            return None
        dirs, files = walked
        inputs: dict[str, tuple[int, ...] | None] = {}
        locks: set[str] = set()
        for file, _ident, _sample in files:
            if CODEX.owns_name(os.path.basename(file)) and CODEX.continues_another(Path(file)):
                return None  # a fork: its report depends on parents found anywhere in the home
            for other in CODEX.report_inputs(Path(file)):
                try:
                    st = os.stat(other)
                except OSError:
                    inputs[str(other)] = None
                    continue
                if racy(st, self.started):
                    return None
                inputs[str(other)] = identity(st)
            locks.update(str(lock) for lock in writer_locks(Path(file)))
        if not watch_registries([file for file, _ident, _sample in files], dirs, absent, self.started):
            return None
        entry = {"stdout": bytes(self.tee.kept), "code": code, "dirs": dirs, "files": files,  # type: ignore[union-attr]
                 "inputs": sorted(inputs.items()), "locks": sorted(locks), "absent": absent}
        return None if held(entry) else entry


_recording: Recorder | None = None  # the run being recorded in this process (keep_reports)


def keep_reports(reports: list[Any]) -> None:
    """Hand the reports a check printed, in order, to the run being recorded, if one is: kept with it,
    they let the next run continue it (``continuing``)."""
    if _recording is not None:
        _recording.reports = reports


def _write(folder: str, name: str, data: bytes) -> bool:
    """``data`` as the file ``name`` in ``folder``, atomically; False when it could not be."""
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(folder, name))
        return True
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
