"""Real Claude Code releases from the npm registry, installed once into a cache folder (npm_release.py).

    claude_binary("2.1.332")  -> <cache>/2.1.332/node_modules/.bin/claude (installed on first use)
    python -m tests.support.claude_bin install 2.1.332                     # what .ci/run calls

The package's postinstall script fetches the native binary (~380 MB); after that it runs offline.
The cache root is `<project>/.cache/claude`, or $ROLLOUT_DOCTOR_CLAUDE_CACHE when set.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tests.support.npm_release import NpmClient

RELEASES = ("2.1.332",)  # the newest release, which patches most pairing breaks in memory
CLAUDE = NpmClient("@anthropic-ai/claude-code", "claude", "ROLLOUT_DOCTOR_CLAUDE_CACHE", RELEASES,
                   install_timeout=1200)


def claude_binary(version: str = RELEASES[0]) -> Path:
    """Path to a working Claude Code `version`, installing it on first use."""
    return CLAUDE.install(version)


def main(argv: Sequence[str] | None = None) -> int:
    return CLAUDE.main(argv, "python -m tests.support.claude_bin", __doc__.splitlines()[0])


if __name__ == "__main__":
    raise SystemExit(main())
