"""Where the cache lives, whether it may be read, and what keys its entries: the part of the cache that the
replay of an unchanged ``check`` run (cli/run_cache.py) needs before anything else is imported.

That replay should cost little more than Python's start-up, so this module imports neither ``pathlib``
nor ``hashlib`` (OpenSSL) nor, on Linux, ``platformdirs`` (7 ms with what it imports: ``tempfile``,
``shutil``, ``random``; python -X importtime, 2026-11-29). core/cache_files.py builds the entries'
reading and writing on it.
"""

from __future__ import annotations

import os
import stat
import sys

from rollout_doctor.core.blake import blake2b

SCHEMA = 1  # the layout of an entry; bump it when a header or a payload changes shape
APP = "rollout-doctor"

_fingerprint: str | None = None
_checked: dict[str, bool] = {}


def folder() -> str | None:
    """The cache folder: ``$ROLLOUT_DOCTOR_CACHE_DIR``, else the platform's cache folder for this user
    (platformdirs: ``~/.cache/rollout-doctor`` or ``$XDG_CACHE_HOME/rollout-doctor`` on Linux,
    ``~/Library/Caches/rollout-doctor`` on macOS, ``%LOCALAPPDATA%\\rollout-doctor\\Cache`` on Windows).
    None when the cache is off (``--no-cache``, or ``ROLLOUT_DOCTOR_NO_CACHE`` set)."""
    if os.environ.get("ROLLOUT_DOCTOR_NO_CACHE"):
        return None
    override = os.environ.get("ROLLOUT_DOCTOR_CACHE_DIR")
    if override:
        return os.path.abspath(os.path.expanduser(override))
    linux = _linux_cache_home()
    if linux is not None:
        return os.path.join(linux, APP)
    from platformdirs import user_cache_dir

    return user_cache_dir(APP, appauthor=False)


def _linux_cache_home() -> str | None:
    """platformdirs' answer on Linux in the common case, without importing it: an absolute
    ``$XDG_CACHE_HOME``, else ``$HOME/.cache`` for an absolute ``$HOME`` (platformdirs 4.14 ``_xdg.py``;
    tests/test_cache_place.py compares the two). Anything else (no ``$HOME``, a relative one, another
    system) is left to platformdirs."""
    if not sys.platform.startswith("linux"):
        return None
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        return xdg
    home = os.environ.get("HOME", "")
    return os.path.expanduser("~/.cache") if os.path.isabs(home) else None


def disable() -> None:
    """Turn the cache off for this process and the workers it starts (``--no-cache``)."""
    os.environ["ROLLOUT_DOCTOR_NO_CACHE"] = "1"


def fingerprint() -> str:
    """The tool's version and the schema, and the size and mtime of every module of core/,
    formats/ and store/: what a report and an index are made by. A release bumps the version, but a development
    checkout or an editable install changes its code under the same version; a record class with a new
    field read from an old pickle would otherwise be a wrong report."""
    global _fingerprint
    if _fingerprint is None:
        _fingerprint = code_stamp("core", "formats", "store")
    return _fingerprint


def code_stamp(*subs: str) -> str:
    """A digest of the tool's version, the schema, and the path, size and mtime of every module in these
    folders of the package (cli/run_cache.py keys a run by cli/'s too)."""
    import rollout_doctor

    package = os.path.dirname(rollout_doctor.__file__)
    digest = blake2b(f"{rollout_doctor.__version__}/{SCHEMA}".encode(), digest_size=12)
    for sub in subs:
        for root, dirs, files in os.walk(os.path.join(package, sub)):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(".py"):
                    st = os.stat(os.path.join(root, name))
                    digest.update(f"{root}/{name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return digest.hexdigest()


def key_name(*parts: str) -> str:
    return blake2b("\0".join(parts).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def private(path: str, create: bool) -> bool:
    """Whether ``path`` is a folder of this user's that no one else can write to (made, 0700, when
    ``create``)."""
    known = _checked.get(path)
    if known is not None:
        return known
    try:
        if create:
            os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.stat(path)
    except OSError:
        return False
    ok = stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o022
    if ok or create:  # a missing folder may be made later in this run
        _checked[path] = ok
    return ok
