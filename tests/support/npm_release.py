"""A client's releases from the npm registry, installed once into a cache folder (codex_bin.py and
claude_bin.py are the two clients the tests drive).

An install goes to a staging folder beside the final one and is renamed into place, so a killed install
never looks finished; parallel pytest workers wait on a lock for the first one's install instead of
racing npm; a copy counts as installed only when its command runs and names the version.
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
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class InstallError(RuntimeError):
    pass


@dataclass(frozen=True)
class NpmClient:
    package: str  # "@openai/codex"
    command: str  # the program the package installs: "codex"
    cache_env: str  # the variable that moves the cache root
    releases: tuple[str, ...]  # the releases the tests use
    install_timeout: int  # seconds

    def cache_root(self) -> Path:
        override = os.environ.get(self.cache_env)
        return Path(override).expanduser().resolve() if override else PROJECT_ROOT / ".cache" / self.command

    def binary_path(self, version: str, root: Path | None = None) -> Path:
        return (root or self.cache_root()) / version / "node_modules" / ".bin" / self.command

    def install(self, version: str, root: Path | None = None) -> Path:
        """Install ``package@version`` under ``<root>/<version>`` unless a working copy is there."""
        root = root or self.cache_root()
        binary = self.binary_path(version, root)
        if reports(binary, version):
            return binary
        with _locked(root / f".{version}.lock"):
            if reports(binary, version):  # another worker finished while we waited
                return binary
            self._install_into(root, version)
        if not reports(binary, version):
            raise InstallError(f"{binary} does not run or does not report version {version}")
        return binary

    def _install_into(self, root: Path, version: str) -> None:
        npm = shutil.which("npm")
        if npm is None:
            raise InstallError(f"npm is needed to install {self.package}@{version}")
        staging = root / f".{version}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        command = [npm, "install", "--prefix", str(staging), "--no-audit", "--no-fund", f"{self.package}@{version}"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=self.install_timeout, check=False)
        if done.returncode != 0:
            raise InstallError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
        final = root / version
        if final.is_symlink() or final.is_file():
            final.unlink()
        else:
            shutil.rmtree(final, ignore_errors=True)
        staging.rename(final)
        _ignore_in_git(root)

    def main(self, argv: Sequence[str] | None, prog: str, description: str) -> int:
        parser = argparse.ArgumentParser(prog=prog, description=description)
        commands = parser.add_subparsers(dest="command", required=True)
        for name, text in (
            ("install", "install releases (default: all used by the tests)"),
            ("path", "print the binary path of each release, installing if needed"),
        ):
            sub = commands.add_parser(name, help=text)
            sub.add_argument("versions", nargs="*", default=list(self.releases))
        args = parser.parse_args(argv)
        try:
            for version in args.versions:
                binary = self.install(version)
                print(binary if args.command == "path" else f"{self.package}@{version}: {binary}")
        except (InstallError, subprocess.TimeoutExpired) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        return 0


def reports(binary: Path, version: str) -> bool:
    """True when the binary runs and names ``version`` ("codex-cli 0.169.0", "2.1.332 (Claude Code)"):
    a half-finished install does not."""
    if not binary.exists():
        return False
    try:
        done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and version in done.stdout.split()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _ignore_in_git(root: Path) -> None:
    # A cache under a checkout should never show up in `git status`, whatever the project's .gitignore says.
    marker = root / ".gitignore"
    if not marker.exists():
        marker.write_text("*\n")
