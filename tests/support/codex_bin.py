"""Real Codex releases from the npm registry, installed once into a cache folder (npm_release.py).

    codex_binary("0.169.0")  -> <cache>/0.169.0/node_modules/.bin/codex (installed on first use)
    python -m tests.support.codex_bin install 0.169.0 0.171.0 0.77.0      # what .ci/run calls

The cache root is `<project>/.cache/codex`, or $ROLLOUT_DOCTOR_CODEX_CACHE when set.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tests.support.npm_release import PROJECT_ROOT, InstallError, NpmClient
from tests.support.npm_release import reports as _reports

RELEASES = ("0.169.0", "0.171.0", "0.77.0")  # two paginated-envelope releases, and the last with the Chat wire
PACKAGE = "@openai/codex"
CACHE_ENV = "ROLLOUT_DOCTOR_CODEX_CACHE"
CODEX = NpmClient(PACKAGE, "codex", CACHE_ENV, RELEASES, install_timeout=900)  # the packages weigh ~100 MB each

__all__ = ["CACHE_ENV", "PROJECT_ROOT", "RELEASES", "InstallError", "_reports", "binary_path", "cache_root",
           "codex_binary", "install"]


def cache_root() -> Path:
    return CODEX.cache_root()


def binary_path(version: str, root: Path | None = None) -> Path:
    return CODEX.binary_path(version, root)


def install(version: str, root: Path | None = None) -> Path:
    return CODEX.install(version, root)


def codex_binary(version: str) -> Path:
    """Path to a working Codex `version`, installing it on first use."""
    return CODEX.install(version)


def main(argv: Sequence[str] | None = None) -> int:
    return CODEX.main(argv, "python -m tests.support.codex_bin", __doc__.splitlines()[0])


if __name__ == "__main__":
    raise SystemExit(main())
