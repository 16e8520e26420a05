"""The README's "Sessions on the screen" examples are what the CLI prints (scripts/screen_demo.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_shows_what_check_and_list_print() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "screen_demo.py")], capture_output=True,
                          text=True, check=True)
    blocks = re.findall(r"```console\n.*?```", done.stdout, re.S)
    assert [b.splitlines()[1] for b in blocks] == ["$ rollout-doctor check", "$ rollout-doctor list"]
    readme = (ROOT / "README.md").read_text()
    for block in blocks:
        assert block in readme, f"README is stale: run python scripts/screen_demo.py\n{block}"
