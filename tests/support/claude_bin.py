"""Real Claude Code releases from the npm registry, installed once into a cache folder.

    claude_binary("2.1.332")  -> <cache>/2.1.332/node_modules/.bin/claude (installed on first use)
    python -m tests.support.claude_bin install 2.1.332                     # what .ci/run calls

The package's postinstall script fetches the native binary (~380 MB); after that it runs offline.
The cache root is `<project>/.cache/claude`, or $ROLLOUT_DOCTOR_CLAUDE_CACHE when set.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RELEASES = ("2.1.332",)  # the newest release, which patches most pairing breaks in memory
PACKAGE = "@anthropic-ai/claude-code"
CACHE_ENV = "ROLLOUT_DOCTOR_CLAUDE_CACHE"
INSTALL_TIMEOUT = 1200  # seconds; the native binary weighs ~380 MB


class InstallError(RuntimeError):
    pass


def cache_root() -> Path:
    override = os.environ.get(CACHE_ENV)
    return Path(override).expanduser().resolve() if override else PROJECT_ROOT / ".cache" / "claude"


def binary_path(version: str, root: Path | None = None) -> Path:
    return (root or cache_root()) / version / "node_modules" / ".bin" / "claude"


def _reports(binary: Path, version: str) -> bool:
    """True when the binary runs and says it is `version` (a half-finished install does not)."""
    if not binary.exists():
        return False
    try:
        done = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    # "2.1.332 (Claude Code)"
    return done.returncode == 0 and done.stdout.split()[:1] == [version]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    # An exclusive flock: parallel pytest workers wait for the first one's install instead of racing npm.
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def install(version: str, root: Path | None = None) -> Path:
    """Install `@anthropic-ai/claude-code@version` under `<root>/<version>` unless a working copy is there."""
    root = root or cache_root()
    binary = binary_path(version, root)
    if _reports(binary, version):
        return binary
    with _locked(root / f".{version}.lock"):
        if _reports(binary, version):  # another worker finished while we waited
            return binary
        npm = shutil.which("npm")
        if npm is None:
            raise InstallError(f"npm is needed to install {PACKAGE}@{version}")
        # Install beside the final folder, then rename: a killed install never looks finished.
        staging = root / f".{version}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        command = [
            npm,
            "install",
            "--prefix",
            str(staging),
            "--no-audit",
            "--no-fund",
            f"{PACKAGE}@{version}",
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False)
        if done.returncode != 0:
            raise InstallError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
        final = root / version
        if final.is_symlink() or final.is_file():
            final.unlink()
        else:
            shutil.rmtree(final, ignore_errors=True)
        staging.rename(final)
        _ignore_in_git(root)
    if not _reports(binary, version):
        raise InstallError(f"{binary} does not run or does not report version {version}")
    return binary


def _ignore_in_git(root: Path) -> None:
    # A cache under a checkout should never show up in `git status`, whatever the project's .gitignore says.
    marker = root / ".gitignore"
    if not marker.exists():
        marker.write_text("*\n")


def claude_binary(version: str = RELEASES[0]) -> Path:
    """Path to a working Claude Code `version`, installing it on first use."""
    return install(version)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.claude_bin", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("install", "install releases (default: all used by the tests)"),
        ("path", "print the binary path of each release, installing if needed"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("versions", nargs="*", default=list(RELEASES))
    args = parser.parse_args(argv)
    try:
        for version in args.versions:
            binary = install(version)
            print(binary if args.command == "path" else f"{PACKAGE}@{version}: {binary}")
    except (InstallError, subprocess.TimeoutExpired) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
