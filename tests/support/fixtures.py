"""pytest fixtures for real-Codex tests. Load them as a plugin in a test module or conftest:

pytest_plugins = ["tests.support.fixtures"]
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.codex_run import CodexHome
from tests.support.loopback import LoopbackServer


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    """A started loopback model API with an empty script; `loopback.push(...)` adds turns."""
    with LoopbackServer() as server:
        yield server


@pytest.fixture
def codex_home(tmp_path: Path, loopback: LoopbackServer) -> CodexHome:
    """A fresh HOME/CODEX_HOME configured for the Responses wire against `loopback`.

    For the Chat wire (0.77.0 only) call `codex_home.configure(loopback.base_url, wire="chat")`.
    """
    home = CodexHome.create(tmp_path / "codex")
    home.configure(loopback.base_url)
    return home


@pytest.fixture
def doctor_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """ROLLOUT_DOCTOR_HOME for this test: rollout-doctor's backups go here, outside any CODEX_HOME."""
    home = tmp_path / "rollout-doctor"
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(home))
    return home
