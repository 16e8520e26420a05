"""The wrapper guards the session the real Codex opens, when the command line chooses it (issue 13).

One sealed home per release with two providers on the loopback server, `judge` (config.toml's) and
`other`; sessions recorded by `codex exec`. Through the bash wrapper (`shell-init bash`):

* `codex -c model_provider="other" exec resume --last` and `codex -p work exec resume --last`
  (`work.config.toml` selecting `other`): the guard fixes the broken `other` session, and that is the
  session Codex grows, with a request the loopback's judge accepts;
* the TUI in a real terminal (tmux, `--no-daemon`): the picker lists the interactive sessions in the
  order the guard guarded them, and `codex resume --last` opens the one the guard named.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rollout_doctor.formats.codex.last_session import INTERACTIVE_SOURCES, Wanted, newest
from tests.support.breakers import BREAKERS
from tests.support.codex_bin import codex_binary
from tests.support.codex_run import CodexHome, session_id_of
from tests.support.loopback import LoopbackServer, say
from tests.support.scenarios import command_call

pytest_plugins = ["tests.support.fixtures"]

RELEASES = ("0.169.0", "0.171.0")
BIN = Path(sys.executable).parent  # the venv's bin, holding the real rollout-doctor
EXEC = ("exec", "--skip-git-repo-check", "-s", "danger-full-access")


def add_provider(home: CodexHome, name: str, base_url: str) -> None:
    config = home.codex_home / "config.toml"
    config.write_text(config.read_text() + f'\n[model_providers.{name}]\nname = "{name}"\nbase_url = "{base_url}"\n'
                      'wire_api = "responses"\nenv_key = "JUDGE_KEY"\nrequest_max_retries = 0\n'
                      'stream_max_retries = 0\n')


def wrapped(home: CodexHome, release: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """``codex ARGV`` typed into bash with the shell-init wrapper, the real codex and rollout-doctor on PATH."""
    folder = home.root / "bin"
    folder.mkdir(exist_ok=True)
    if not (folder / "codex").exists():
        (folder / "codex").symlink_to(codex_binary(release))
    init = subprocess.run([str(BIN / "rollout-doctor"), "shell-init", "bash"], capture_output=True, text=True,
                          check=True).stdout
    env = {**home.env(), "PATH": f"{folder}:{BIN}:/usr/bin:/bin", "ROLLOUT_DOCTOR_HOME": str(home.root / "state")}
    script = f"{init}\ncodex {' '.join(shlex.quote(a) for a in argv)}"
    return subprocess.run(["bash", "--norc", "--noprofile", "-c", script], cwd=home.workdir, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False)


def record(home: CodexHome, server: LoopbackServer, release: str, prompt: str, *pre: str,
           command: bool = False) -> Path:
    """One session recorded by ``codex [PRE] exec PROMPT``; with ``command`` the model runs `echo hi` first."""
    before = set(home.rollouts())
    server.push(*([command_call(release, "echo hi")], [say("done")]) if command else ([say("ok")],))
    run = home.run(release, *pre, *EXEC, prompt)
    assert run.returncode == 0, run.describe()
    (new,) = set(home.rollouts()) - before
    time.sleep(1.1)  # distinct times to the second: every order is unambiguous
    return new


def grown_by(home: CodexHome, action) -> list[str]:  # type: ignore[no-untyped-def]
    sizes = {p: p.stat().st_size for p in home.rollouts()}
    action()
    return [session_id_of(p) for p in home.rollouts() if p.stat().st_size != sizes.get(p)]


@pytest.mark.codex
@pytest.mark.parametrize("release", RELEASES)
def test_c_and_profile_choose_the_session_codex_exec_resumes(release: str, tmp_path: Path) -> None:
    home = CodexHome.create(tmp_path)
    with LoopbackServer() as server:
        home.configure(server.base_url)
        add_provider(home, "other", server.base_url)
        (home.codex_home / "work.config.toml").write_text('model_provider = "other"\n')
        other = record(home, server, release, "for other", "-c", 'model_provider="other"', command=True)
        judge = record(home, server, release, "for judge")
        st = other.stat()
        other.write_bytes(BREAKERS["orphan-call"](other.read_bytes()).data)  # its output lost (#16255)
        os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
        receipts = []
        for argv in ((*EXEC[:1], "-c", 'model_provider="other"', *EXEC[1:], "resume", "--last", "go"),
                     ("-p", "work", *EXEC, "resume", "--last", "go again")):
            server.push([say("resumed")])
            done: list[subprocess.CompletedProcess[str]] = []
            grown = grown_by(home, lambda argv=argv, done=done: done.append(wrapped(home, release, *argv)))
            assert done[0].returncode == 0, done[0].stderr
            receipts.append(done[0].stderr)
            assert grown == [session_id_of(other)], f"codex resumed {grown}, not {session_id_of(other)}"
        assert f"session {session_id_of(other)}" in receipts[0] and "fixed 1 problem(s) (orphan-call)" in receipts[0]
        assert f"session {session_id_of(other)}" in receipts[1] and "ready to resume" in receipts[1]
        assert session_id_of(judge) not in "".join(receipts)
        assert server.refusals == [], [r.refusal for r in server.refusals]


TMUX = shutil.which("tmux")


class Tmux:
    """The TUI in a terminal of its own (a private tmux server), for what the screen shows."""

    def __init__(self, home: CodexHome, release: str, argv: list[str]) -> None:
        self.socket = str(home.root / "tmux.sock")
        folder = home.root / "bin"
        folder.mkdir(exist_ok=True)
        if not (folder / "codex").exists():
            (folder / "codex").symlink_to(codex_binary(release))
        env = {**home.env(), "PATH": f"{folder}:{BIN}:/usr/bin:/bin", "TERM": "xterm-256color",
               "ROLLOUT_DOCTOR_HOME": str(home.root / "state")}
        init = home.root / "init.sh"
        init.write_text(subprocess.run([str(BIN / "rollout-doctor"), "shell-init", "bash"], capture_output=True,
                                       text=True, check=True).stdout)
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        command = f". {shlex.quote(str(init))}; codex {' '.join(shlex.quote(a) for a in argv)} 2>{home.root}/guard.err"
        self._tmux("new-session", "-d", "-s", "t", "-x", "160", "-y", "50", "-c", str(home.workdir),
                   f"env -i {exports} bash --norc --noprofile -c {shlex.quote(command + '; sleep 60')}")

    def _tmux(self, *args: str) -> str:
        done = subprocess.run([TMUX, "-S", self.socket, *args], capture_output=True, text=True, check=False)  # type: ignore[list-item]
        return done.stdout

    def wait_for(self, text: str, seconds: float = 40) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            screen = self._tmux("capture-pane", "-p", "-t", "t")
            if text in screen:
                time.sleep(1.5)  # let it finish drawing (and writing)
                return self._tmux("capture-pane", "-p", "-t", "t")
            time.sleep(0.3)
        raise AssertionError(f"{text!r} never showed:\n{self._tmux('capture-pane', '-p', '-t', 't')}")

    def close(self) -> None:
        self._tmux("kill-server")


def interactive_home(tmp_path: Path, server: LoopbackServer, release: str) -> tuple[CodexHome, dict[str, str]]:
    """Four sessions, prompts p0..p3 oldest first: p1 and p3 made interactive (`source: cli`, as the TUI
    records them) and p2 of the other provider; the state database removed, to be rebuilt from them."""
    home = CodexHome.create(tmp_path)
    home.configure(server.base_url)
    add_provider(home, "other", server.base_url)
    config = home.codex_home / "config.toml"
    config.write_text(config.read_text() + f'\n[projects."{home.workdir}"]\ntrust_level = "trusted"\n')
    labels = {}
    for n in range(4):
        pre = ("-c", 'model_provider="other"') if n == 2 else ()
        path = record(home, server, release, f"prompt p{n}", *pre)
        labels[session_id_of(path)] = f"p{n}"
        if n > 0:
            st = path.stat()
            first, rest = path.read_bytes().split(b"\n", 1)
            path.write_bytes(first.replace(b'"source":"exec"', b'"source":"cli"') + b"\n" + rest)
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    for db in home.codex_home.glob("state_5.sqlite*"):
        db.unlink()
    return home, labels


@pytest.mark.codex
@pytest.mark.skipif(TMUX is None, reason="tmux not installed")
@pytest.mark.parametrize("release", RELEASES)
def test_the_tui_picker_and_last_are_what_the_guard_guards(release: str, tmp_path: Path) -> None:
    with LoopbackServer() as server:
        home, labels = interactive_home(tmp_path / "picker", server, release)
        expected = newest(home.codex_home, Wanted(None, home.workdir, INTERACTIVE_SOURCES), limit=25)
        assert [labels[s.thread_id] for s in expected] == ["p3", "p2", "p1"], "interactive, any provider"
        terminal = Tmux(home, release, ["--no-alt-screen", "--no-daemon", "resume"])
        try:
            screen = terminal.wait_for("prompt p1")
        finally:
            terminal.close()
        shown = [line.split("prompt ")[1].split()[0] for line in screen.splitlines() if "prompt p" in line]
        assert shown == ["p3", "p2", "p1"], screen
        guard_said = (home.root / "guard.err").read_text()
        assert "guarded the 3 newest interactive sessions in" in guard_said, guard_said

        home, labels = interactive_home(tmp_path / "last", server, release)
        server.push([say("resumed")])
        terminal = Tmux(home, release, ["--no-alt-screen", "--no-daemon", "resume", "--last", "go"])
        try:
            grown = grown_by(home, lambda: terminal.wait_for("resumed"))
        finally:
            terminal.close()
        guard_said = (home.root / "guard.err").read_text()
        assert [labels[g] for g in grown] == ["p3"]
        assert f"session {grown[0]}" in guard_said, guard_said
