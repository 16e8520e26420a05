"""The CLI run in-process, as the tests of what a person types see it.

    code, out, err = run(capsys, "fix", str(path))
    isolate(tmp_path, monkeypatch)   # backups and CODEX_HOME under tmp_path, no leak from the developer's
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rollout_doctor.cli.app import main


def isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """ROLLOUT_DOCTOR_HOME, the cache and CODEX_HOME under ``tmp_path``; the CODEX_HOME's path."""
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("ROLLOUT_DOCTOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ROLLOUT_DOCTOR_NO_CACHE", "")  # recorded, so that a --no-cache run in-process is undone
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.delenv("ROLLOUT_DOCTOR_DEBUG", raising=False)
    return tmp_path / "codex-home"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
