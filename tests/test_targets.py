"""What `check` and `fix` take, and how they judge it: only rollouts, never an empty scan as healthy,
the wire from the user's config.toml, and a session a running Codex writes as in progress."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import orjson
import pytest

from tests.support.cli import isolate, run
from tests.support.safety import REAL, holding

CHAT_STUCK = next((REAL / "0.77.0-chat-parallel-calls").glob("rollout-*.jsonl"))  # openai/codex#8479
INTERRUPTED = next((REAL / "0.77.0-responses-interrupted-stream").glob("rollout-*.jsonl"))  # #16255
CLEAN = next((REAL / "0.169.0-responses-single-call").glob("rollout-*.jsonl"))


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate(tmp_path, monkeypatch)
    return tmp_path / "codex-home"


def install(home: Path, source: Path) -> Path:
    target = home / "sessions" / "2026" / "11" / "21" / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


# --- only rollouts are touched ---------------------------------------------------------------------------


CONFIG = b'model = "gpt-5"\nmodel_provider = "judge"\n\n[model_providers.judge]\nname = "judge"\nwire_api = "responses"\n'
NOT_ROLLOUTS = {
    "config.toml": CONFIG,
    "notes.txt": b"remember to fix the session\nsecond line\n",
    "history.jsonl": b'{"session_id":"x","ts":1,"text":"a prompt"}\n{"session_id":"x","ts":2,"text":"another"}\n',
    "empty.json": b"",
}


@pytest.mark.parametrize("name", list(NOT_ROLLOUTS))
def test_fix_refuses_a_file_that_is_not_a_rollout_and_leaves_it_byte_for_byte(
        name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / name
    path.write_bytes(NOT_ROLLOUTS[name])
    for command in (["fix"], ["check"], ["fix", "--unsafe-fixes"]):
        code, out, err = run(capsys, *command, str(path))
        assert code == 2 and "not a Codex rollout" in out + err, (command, out, err)
        assert path.read_bytes() == NOT_ROLLOUTS[name]


def test_fix_of_a_whole_codex_home_touches_only_its_rollouts(private_state: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """`rollout-doctor fix ~/.codex/*` used to empty config.toml ("6 fix(es) applied")."""
    home = private_state
    broken = install(home, INTERRUPTED)
    (home / "config.toml").write_bytes(CONFIG)
    (home / "session_index.jsonl").write_bytes(b'{"id":"x","thread_name":"n","updated_at":"t"}\n')
    code, out, err = run(capsys, "fix", *sorted(str(p) for p in home.iterdir()))
    assert code == 2, out + err
    assert (home / "config.toml").read_bytes() == CONFIG
    assert (home / "session_index.jsonl").read_bytes().startswith(b'{"id":"x"')
    assert broken.read_bytes() != INTERRUPTED.read_bytes(), "the rollouts are still fixed"


def test_a_rollout_named_file_of_text_is_not_emptied(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / INTERRUPTED.name
    path.write_bytes(NOT_ROLLOUTS["notes.txt"])
    code, out, _ = run(capsys, "fix", str(path))
    assert code == 1 and "not fixed" in out and "unreadable lines" in out
    assert path.read_bytes() == NOT_ROLLOUTS["notes.txt"]


def test_a_file_holding_a_session_is_taken_whatever_its_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "saved-session.jsonl"
    path.write_bytes(INTERRUPTED.read_bytes())
    code, out, _ = run(capsys, "check", str(path))
    assert code == 1 and "orphan-call" in out


def test_a_fix_that_would_remove_the_session_meta_is_held_back(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    data = INTERRUPTED.read_bytes()
    meta, rest = data.split(b"\n", 1)
    path = tmp_path / INTERRUPTED.name
    path.write_bytes(meta[: len(meta) // 2] + b"\x00\x00\n" + rest)  # the meta line is torn and unreadable
    code, out, _ = run(capsys, "fix", "--format", "json", str(path))
    result = orjson.loads(out)
    assert code == 1
    assert result["files"][0]["fix"]["written"] is False and path.read_bytes().startswith(meta[: len(meta) // 2])


@pytest.mark.parametrize(("garbage", "held"), [(3, False), (400, True)])
def test_a_fix_that_would_remove_most_bytes_as_unreadable_lines_is_held_back(
        garbage: int, held: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Only the unreadable lines a fix removes count (fix_loop.held): a few are removed; most of the file is not."""
    data = INTERRUPTED.read_bytes()
    meta, rest = data.split(b"\n", 1)
    path = tmp_path / INTERRUPTED.name
    path.write_bytes(meta + b"\n" + b"this is no record at all, just text someone pasted\n" * garbage + rest)
    before = path.read_bytes()
    code, out, _ = run(capsys, "fix", "--format", "json", str(path))
    report = orjson.loads(out)["files"][0]
    assert report["fix"]["written"] is not held
    if held:
        assert path.read_bytes() == before and "% of the file's bytes as unreadable lines" in out
    else:
        assert b"just text someone pasted" not in path.read_bytes()


# --- nothing found is an error -------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "fix"])
def test_an_empty_folder_is_not_all_clear(command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = run(capsys, command, str(empty))
    assert code == 2 and "All clear" not in out and "no rollouts" in err and str(empty) in err


@pytest.mark.parametrize("command", ["check", "fix"])
def test_a_codex_home_that_does_not_exist_is_not_all_clear(command: str, private_state: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, command)
    assert code == 2 and "All clear" not in out and str(private_state / "sessions") in err


def test_a_fifo_named_like_a_rollout_is_reported_not_skipped(private_state: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    install(private_state, CLEAN)
    os.mkfifo(private_state / "sessions" / "2026" / "11" / "21" / INTERRUPTED.name)
    code, out, err = run(capsys, "check")
    assert code == 2 and "All clear" not in out and "not a regular file" in out + err


# --- the user's config decides the wire ------------------------------------------------------------------


def config(home: Path, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(text)


CHAT = '[model_providers.judge]\nname = "judge"\nwire_api = "chat"\n'


@pytest.mark.parametrize(("text", "chat"), [
    pytest.param('model_provider = "judge"\n' + CHAT, True, id="configured-provider-chat"),
    pytest.param('model_provider = "openai"\n' + CHAT.replace("judge", "other"), False, id="other-provider-chat"),
    pytest.param('profile = "old"\nmodel_provider = "openai"\n[profiles.old]\nmodel_provider = "judge"\n' + CHAT, True,
                 id="profile-selects-chat"),
    pytest.param("", False, id="no-config"),
])
def test_check_and_fix_take_the_wire_from_config_toml(text: str, chat: bool, private_state: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """#8479 is refused on every resume by the Chat wire; on the Responses wire it is fine."""
    path = install(private_state, CHAT_STUCK)
    config(private_state, text)
    code, out, _ = run(capsys, "check", "--format", "json", str(path))
    result = orjson.loads(out)["files"][0]
    rules = {d["rule"] for d in result["diagnostics"]}
    assert ("chat-adjacency" in rules) == chat and result["target"] == ("chat" if chat else "responses")
    assert (code == 1) == chat
    overridden = orjson.loads(run(capsys, "check", "--format", "json", "--target", "responses", str(path))[1])
    assert "chat-adjacency" not in {d["rule"] for d in overridden["files"][0]["diagnostics"]}
    code, out, _ = run(capsys, "fix", "--dry-run", str(path))
    assert (code == 1) == chat


def test_the_provider_a_session_was_written_with_counts_too(private_state: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A session written through a Chat provider (its session_meta names it) while another is configured."""
    path = install(private_state, CHAT_STUCK)
    provider = orjson.loads(path.read_bytes().split(b"\n", 1)[0])["payload"]["model_provider"]
    config(private_state, f'model_provider = "openai"\n[model_providers.{provider}]\nname = "x"\nwire_api = "chat"\n')
    code, out, _ = run(capsys, "check", str(path))
    assert code == 1 and "chat-adjacency" in out


def test_a_config_toml_that_is_a_fifo_does_not_hang_the_check(private_state: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = install(private_state, CLEAN)
    os.mkfifo(private_state / "config.toml")
    code, out, _ = run(capsys, "check", str(path))
    assert code == 0 and "All clear" in out


# --- a live session is in progress, not a patient --------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/fdinfo").is_dir(), reason="finds writers through /proc")
def test_a_session_a_running_codex_writes_is_in_progress(private_state: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Its call still waits for the tool's output: that is not an orphan."""
    path = install(private_state, INTERRUPTED)
    other = install(private_state, CLEAN)
    code, out, _ = run(capsys, "check", str(path))
    assert code == 1 and "orphan-call" in out, "without a writer the same call is an orphan"
    with holding(path, "append") as holder:
        code, out, _ = run(capsys, "check", "--format", "json", str(path), str(other))
        result = orjson.loads(out)
        live = result["files"][0]
        assert code == 0 and f"pid {holder.pid}" in live["in_progress"] and live["diagnostics"] == []
        assert result["summary"]["in_progress"] == 1
        code, out, _ = run(capsys, "check", str(path), str(other))
        assert code == 0 and "All clear" not in out and "in progress" in out and f"pid {holder.pid}" in out
