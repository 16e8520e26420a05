"""README "Set-up", command 1: `sh scripts/install.sh` on an empty home makes `rollout-doctor` a command
that a fresh login shell finds, so the `shell-init` line wraps `codex` there (issue 13).

The install fetches the dependencies from the package index (about 10 s here). The test is skipped only
when that index cannot be reached at all (`pip download` of one small package fails too); any other
failure of the install fails it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTALL_TIMEOUT = 600


def index_reachable(tmp_path: Path) -> tuple[bool, str]:
    done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "-d",
                           str(tmp_path / "probe"), "shellingham"], capture_output=True, text=True, timeout=300,
                          check=False)
    return done.returncode == 0, done.stderr.strip()[-300:]


def login_shell(home: Path, script: str) -> subprocess.CompletedProcess[str]:
    """``script`` in a fresh login shell: nothing of this process's environment, the system PATH only."""
    return subprocess.run(["env", "-i", f"HOME={home}", "PATH=/usr/bin:/bin", "bash", "-lc", script],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_install_then_a_fresh_login_shell_finds_the_command_and_wraps_codex(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    python_dir = str(Path(shutil.which("python3") or sys.executable).parent)
    env = {"HOME": str(home), "PATH": f"{python_dir}:/usr/bin:/bin", "LANG": "C.UTF-8", "SHELL": "/bin/bash",
           **{k: v for k, v in os.environ.items() if k.startswith("PIP_")}}
    done = subprocess.run(["sh", str(ROOT / "scripts" / "install.sh")], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=INSTALL_TIMEOUT, check=False)
    said = [line for line in done.stderr.splitlines() if line.startswith("install: ")]
    if not (home / ".local" / "bin" / "rollout-doctor").exists():
        reachable, why = index_reachable(tmp_path)
        if not reachable:
            pytest.skip(f"the package index is unreachable (pip download failed: {why})")
        pytest.fail(f"install failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    assert done.returncode == 1, "it ends with `check fixtures/`, whose broken sessions exit 1"
    assert any("no " in line and "checking the bundled fixtures/" in line for line in said), said
    assert any(line.startswith("install: installed in ") for line in said), said
    shell_init = next(line for line in said if "shell-init bash" in line)
    assert f"{home}/.local/bin/rollout-doctor shell-init bash" in shell_init, "the full path: see README"
    assert "added" in done.stderr and (home / ".profile").is_file(), "an empty home: PATH goes to ~/.profile"

    seen = login_shell(home, 'eval "$(rollout-doctor shell-init bash)"; type codex; rollout-doctor --version')
    assert seen.returncode == 0, seen.stderr
    assert seen.stdout.startswith("codex is a function\n"), seen.stdout
    assert "command rollout-doctor pre-resume" in seen.stdout
    assert seen.stdout.rstrip().endswith("rollout-doctor 0.1.0")
    assert "command not found" not in seen.stderr

    again = subprocess.run(["sh", str(ROOT / "scripts" / "install.sh")], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=INSTALL_TIMEOUT, check=False)
    assert "a new login shell finds rollout-doctor" in again.stderr, "the second run adds no second PATH line"
    assert (home / ".profile").read_text().count("scripts/install.sh") == 1
