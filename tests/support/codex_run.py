"""Run a real Codex binary in a sealed home that only talks to the loopback server.

home = CodexHome.create(tmp_path)
home.configure(server.base_url, wire="responses")
run = home.exec("0.169.0", "say hi")
rollout = home.rollout()                      # sessions/YYYY/MM/DD/rollout-*.jsonl
again = home.resume("0.169.0", session_id_of(rollout), "go on")
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.codex_bin import PROJECT_ROOT, codex_binary

ROLLOUT_NAME = re.compile(
    r"^rollout-(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})T\d{2}-\d{2}-\d{2}-"
    r"(?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$"
)
DEFAULT_TIMEOUT = 90.0
REAL_FIXTURES = PROJECT_ROOT / "fixtures" / "real"

# One model entry for `model_catalog_json` (0.169.0, 0.171.0). Without it Codex uses fallback metadata,
# which offers no apply_patch tool and sends ~30 kB of stock instructions; with it Codex offers apply_patch
# as a custom (freeform) tool and the recorded session_meta stays small. 0.77.0 ignores the key.
MODEL_CATALOG = {
    "models": [
        {
            "slug": "gpt-5",
            "display_name": "gpt-5",
            "description": "loopback test model",
            "default_reasoning_level": "low",
            "supported_reasoning_levels": [{"effort": "low", "description": "Low"}],
            "shell_type": "unified_exec",
            "visibility": "list",
            "supported_in_api": True,
            "priority": 1,
            "base_instructions": "You are a coding agent under test. Follow the scripted turns.",
            "supports_reasoning_summaries": False,
            "default_reasoning_summary": "none",
            "support_verbosity": False,
            "default_verbosity": None,
            "apply_patch_tool_type": "freeform",
            "truncation_policy": {"mode": "tokens", "limit": 10000},
            "supports_parallel_tool_calls": True,
            "context_window": 272000,
            "effective_context_window_percent": 95,
            "experimental_supported_tools": [],
            "input_modalities": ["text"],
            "supports_search_tool": False,
        }
    ]
}


@dataclass(frozen=True)
class CodexRun:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def describe(self) -> str:
        """For assertion messages: what ran and what it said."""
        return f"$ {' '.join(self.args)}\nexit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def real_fixture(scenario: str) -> Path:
    """The recorded rollout of a scenario under fixtures/real/<scenario>/ (see its NOTES.md)."""
    found = sorted((REAL_FIXTURES / scenario).glob("rollout-*.jsonl"))
    if len(found) != 1:
        raise FileNotFoundError(f"expected one rollout in {REAL_FIXTURES / scenario}, found {found}")
    return found[0]


def session_id_of(rollout: Path) -> str:
    match = ROLLOUT_NAME.match(rollout.name)
    if match is None:
        raise ValueError(f"not a rollout file name: {rollout.name}")
    return match["uuid"]


@dataclass(frozen=True)
class CodexHome:
    """A throwaway HOME with CODEX_HOME at `<home>/.codex` and a separate working directory."""

    root: Path
    # RUST_LOG for the Codex runs: "warn" makes 0.169.0 and 0.171.0 print what they skip or refuse in a
    # rollout (projection warnings, missing outputs), which end-to-end tests read as complaints.
    rust_log: str | None = None

    @classmethod
    def create(cls, root: Path, rust_log: str | None = None) -> CodexHome:
        home = cls(root, rust_log)
        home.codex_home.mkdir(parents=True, exist_ok=True)
        home.workdir.mkdir(parents=True, exist_ok=True)
        return home

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def codex_home(self) -> Path:
        return self.home / ".codex"

    @property
    def workdir(self) -> Path:
        return self.root / "work"

    @property
    def sessions(self) -> Path:
        return self.codex_home / "sessions"

    def configure(self, base_url: str, wire: str = "responses", model_catalog: bool = True) -> None:
        """Point Codex at the loopback server; no retries, so a refusal or a cut stream ends the run."""
        lines = [
            'model = "gpt-5"',
            'model_provider = "judge"',
            "check_for_update_on_startup = false",
        ]
        if model_catalog:
            catalog = self.codex_home / "model_catalog.json"
            catalog.write_text(json.dumps(MODEL_CATALOG, indent=1))
            lines.append(f"model_catalog_json = {json.dumps(str(catalog))}")
        lines += [
            "",
            "[model_providers.judge]",
            'name = "judge"',
            f"base_url = {json.dumps(base_url)}",
            f"wire_api = {json.dumps(wire)}",
            'env_key = "JUDGE_KEY"',
            "request_max_retries = 0",
            "stream_max_retries = 0",
            "",
        ]
        (self.codex_home / "config.toml").write_text("\n".join(lines))

    def env(self) -> dict[str, str]:
        # Start from nothing so no proxy, API key or real ~/.codex of the developer leaks in.
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "CODEX_HOME": str(self.codex_home),
            "JUDGE_KEY": "x",
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "NO_COLOR": "1",
        }
        if self.rust_log:
            env["RUST_LOG"] = self.rust_log
        return env

    def run(self, release: str, *args: str, timeout: float = DEFAULT_TIMEOUT) -> CodexRun:
        command = [str(codex_binary(release)), *args]
        started = time.monotonic()
        done = subprocess.run(
            command,
            cwd=self.workdir,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,  # the exit code is part of what a test observes
        )
        return CodexRun(command, done.returncode, done.stdout, done.stderr, time.monotonic() - started)

    def exec(self, release: str, prompt: str, timeout: float = DEFAULT_TIMEOUT) -> CodexRun:
        return self.run(
            release, "exec", "--skip-git-repo-check", "-s", "danger-full-access", prompt, timeout=timeout
        )

    def resume(
        self, release: str, session_id: str, prompt: str, timeout: float = DEFAULT_TIMEOUT
    ) -> CodexRun:
        return self.run(
            release,
            "exec",
            "--skip-git-repo-check",
            "-s",
            "danger-full-access",
            "resume",
            session_id,
            prompt,
            timeout=timeout,
        )

    def rollouts(self) -> list[Path]:
        """Every rollout under sessions/, oldest name first (names start with the local start time)."""
        return sorted(self.sessions.glob("*/*/*/rollout-*.jsonl"), key=lambda p: p.name)

    def rollout(self) -> Path:
        """The one rollout this home holds; fails loudly when there are none or several."""
        found = self.rollouts()
        if len(found) != 1:
            raise AssertionError(
                f"expected one rollout under {self.sessions}, found {[str(p) for p in found]}"
            )
        return found[0]

    def install_rollout_bytes(self, name: str, data: bytes) -> Path:
        """Write ``data`` as the rollout ``name`` (rollout-<time>-<uuid>.jsonl) where Codex finds it."""
        staged = self.root / name
        staged.write_bytes(data)
        return self.install_rollout(staged)

    def install_rollout(self, source: Path) -> Path:
        """Copy a rollout into sessions/YYYY/MM/DD/ under its own name, so `resume <uuid>` finds it."""
        match = ROLLOUT_NAME.match(source.name)
        if match is None:
            raise ValueError(f"{source} must keep its rollout-<time>-<uuid>.jsonl name to be resumable")
        target = self.sessions / match["y"] / match["m"] / match["d"] / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return target


def read_jsonl(path: Path) -> list[dict]:
    """Parsed lines of a rollout (skipping blank ones); for assertions, not for byte-exact work."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def response_items(path: Path) -> list[dict]:
    """The payloads of the response_item lines, in file order."""
    return [line["payload"] for line in read_jsonl(path) if line.get("type") == "response_item"]
