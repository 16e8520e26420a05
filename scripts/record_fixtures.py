"""Regenerate the real-Codex fixtures under fixtures/real/ from scripted runs.

    python scripts/record_fixtures.py                 # every scenario
    python scripts/record_fixtures.py 0.77.0-chat-parallel-calls ...
    python scripts/record_fixtures.py --notes         # only rewrite NOTES.md

Each scenario (tests/support/scenarios.py) runs a released Codex binary against the loopback model
API in a fresh CODEX_HOME, and its rollout is copied, byte for byte and under its original name, to
fixtures/real/<scenario>/. NOTES.md is rewritten from what the runs did. Ids and timestamps differ
from run to run; the shapes do not. Exits 1 when a run did not end as the scenario expects.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))  # run as a plain script: make `tests.support` importable

from tests.support.codex_run import read_jsonl
from tests.support.scenarios import SCENARIOS, Outcome, play

FIXTURES = PROJECT_ROOT / "fixtures" / "real"
# A fixed work root keeps the cwd recorded in the rollouts the same from one recording to the next.
WORK_ROOT = Path(tempfile.gettempdir()) / "rollout-doctor-record"

HEADER = """\
# Real Codex rollouts

Recorded by `python scripts/record_fixtures.py` (do not edit by hand; rerun it). Each scenario ran a
released `@openai/codex` binary against the loopback model API (`tests/support/loopback.py`) in a
fresh `CODEX_HOME`, with the scripted model turns listed below. The commands really ran.

Layout: one folder per scenario holding the rollout **under the name Codex gave it**,
`fixtures/real/<scenario>/rollout-<UTC time>-<uuid>.jsonl`. The uuid in the name equals
`session_meta.payload.id`, so a test resumes a fixture by copying it into a fresh
`CODEX_HOME/sessions/YYYY/MM/DD/` (`CodexHome.install_rollout`) and running
`codex exec resume <uuid>`; find the file with `next(folder.glob("rollout-*.jsonl"))`.

0.169.0 and 0.171.0 runs use a one-model `model_catalog_json` (see `tests/support/codex_run.py`): it
makes Codex offer `apply_patch` as a custom tool and keeps `base_instructions` short. 0.77.0 runs use
its defaults. Recording cwd: `{work_root}/<scenario>/work`.

## What the runs showed (each point is checked by tests/test_harness.py)

- 0.169.0 line keys, in this order: `timestamp`, `ordinal`, `type`, `payload`, and on `response_item`
  lines only a trailing `metadata` (`history_sequence`, `sampled_through_sequence`, `client_authored`,
  `user_input_order`, `retained_source`, `fallback_token_limit_override`, `mcp_attribution`: whichever
  apply). Ordinals are 0, 1, 2, ... in file order. `session_meta.payload.history_mode == "paginated"`.
- Payload keys follow Codex's own field order, not the wire's: `function_call` {type, status, id, name,
  arguments, call_id, internal_chat_message_metadata_passthrough}; `custom_tool_call` {type, id, status,
  call_id, name, input, ...}; outputs {type, id, call_id, output, ...}. Model items keep the API's ids
  (`fc_`, `ctc_`, `msg_`); items Codex makes get `msg_`/`fco_`/`ctco_` + a UUIDv7.
- 0.169.0 sends item `id`s in `input` and leaves out `internal_chat_message_metadata_passthrough` and
  `metadata`. 0.77.0 writes no ids, no ordinals, no metadata.
- Orphan call on resume: both releases put `{"type":"function_call_output","call_id":ID,"output":"aborted"}`
  right after the call in the request (0.169.0 adds `"id":"fco_<UUIDv5>"`, the same on every resume),
  exit 0, and never write it to the file.
- 0.77.0 Chat wire: the request right after parallel calls already sends one assistant message per call
  and is refused (exit 1); every later resume is refused the same way and appends its new user turn
  to the file. The file with `out_A` moved up to just after `call_A` resumes.
- 0.169.0 resumes a 0.77.0 file and appends its own line types (`world_state`, `token_usage_record`,
  `metadata`) without `ordinal`: a mixed-generation file.
- 0.171.0 writes what 0.169.0 writes. In each of the six scenarios recorded with both, its file has the
  same lines in the same order (same line types, payload types, roles and tool names: `exec_command`,
  and `apply_patch` as a custom tool), each with the same keys in the same order (line, payload,
  `metadata`), the same ordinals 0, 1, 2, ..., the same `history_mode: "paginated"` and the same id
  prefixes. One key is new: every `response_item` line's `metadata` ends with `model_search_state`
  (`"unused"` on every recorded line). Everything listed above for 0.169.0 holds for 0.171.0 too: the
  interrupted stream (command run, call and output persisted, error in `task_complete`, exit 1), the
  `aborted` output with `"id":"fco_<UUIDv5>"` it sends for an orphan call, and a 0.77.0 file resumed
  with lines appended without `ordinal`.
- 0.169.0 and 0.171.0 refuse the Chat wire at start-up: with `wire_api = "chat"` they exit 1 before any
  model request, writing no rollout, and print on stderr (so no 0.171.0 scenario uses the Chat wire):
  ```
  Error loading config.toml: `wire_api = "chat"` is no longer supported.
  How to fix: set `wire_api = "responses"` in your provider config.
  More info: https://github.com/openai/codex/discussions/7782
  in `model_providers.judge.wire_api`
  ```
"""


def _describe_turn(entry: object) -> str:
    items = getattr(entry, "items", entry)
    parts = []
    for item in items:  # type: ignore[union-attr]
        if item["type"] == "function_call":
            parts.append(f"function_call {item['name']} {item['arguments']}")
        elif item["type"] == "custom_tool_call":
            parts.append(f"custom_tool_call {item['name']} ({len(item['input'])} chars)")
        elif item["type"] == "message":
            parts.append(f"message {item['content'][0]['text']!r}")
    cut = " then the stream closes before response.completed" if getattr(entry, "interrupt", False) else ""
    return "[" + ", ".join(parts) + "]" + cut


def _item_sequence(rollout: Path) -> str:
    """The response items in file order, as short words: what a reader needs to see the pairing."""
    words = []
    for line in read_jsonl(rollout):
        if line.get("type") != "response_item":
            continue
        payload = line["payload"]
        kind = payload.get("type")
        if kind == "message":
            words.append(f"message/{payload.get('role')}")
        elif "call_id" in payload:
            words.append(f"{kind}({payload['call_id'][-4:]})")
        else:
            words.append(str(kind))
    return ", ".join(words)


def _line_types(rollout: Path) -> str:
    counts: dict[str, int] = {}
    for line in read_jsonl(rollout):
        kind = line.get("type", "?")
        if kind in ("event_msg", "response_item"):
            kind = f"{kind}:{line['payload'].get('type')}"
        counts[kind] = counts.get(kind, 0) + 1
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def record(outcome: Outcome) -> list[str]:
    """Copy the rollout into fixtures/real/<scenario>/ and return its NOTES.md section."""
    scenario = outcome.scenario
    folder = FIXTURES / scenario.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    assert outcome.rollout is not None
    target = folder / outcome.rollout.name
    shutil.copyfile(outcome.rollout, target)
    exits = " then ".join(str(run.returncode) for run in outcome.runs)
    requests = outcome.server.model_requests
    refused = [f"{r.status} {r.refusal.message}" for r in requests if r.refusal is not None]
    lines = [
        f"## {scenario.name}",
        "",
        (
            f"- file: `{scenario.name}/{target.name}` ({target.stat().st_size} bytes, "
            f"{len(target.read_bytes().splitlines())} lines)"
        ),
        f"- release {scenario.release}, wire `{scenario.wire}`; exit code(s): {exits}",
        f"- shows: {scenario.shows}",
        f"- `codex exec` prompt {scenario.prompt!r}; model turns: "
        + "; ".join(_describe_turn(t) for t in scenario_turns(outcome, first=True)),
    ]
    if scenario.resume_prompt is not None:
        lines.append(
            f"- then `codex exec resume <uuid>` prompt {scenario.resume_prompt!r}; model turns: "
            + "; ".join(_describe_turn(t) for t in scenario_turns(outcome, first=False))
        )
    lines += [
        f"- model requests: {len(requests)}" + (f"; refused: {refused}" if refused else ""),
        f"- response items: {_item_sequence(target)}",
        f"- line types: {_line_types(target)}",
        "",
    ]
    return lines


def scenario_turns(outcome: Outcome, first: bool) -> list[object]:
    """The turns the server actually answered with, in the exec run or in the resume run."""
    requests = outcome.server.model_requests
    chosen = requests[: outcome.exec_requests] if first else requests[outcome.exec_requests :]
    return [r.turn for r in chosen if r.turn is not None]


def problems(outcome: Outcome) -> list[str]:
    scenario = outcome.scenario
    found = []
    expected = [scenario.expect_exit] + ([scenario.expect_resume_exit] if scenario.resume_prompt else [])
    for run, want in zip(outcome.runs, expected):
        if run.returncode != want:
            found.append(f"{scenario.name}: expected exit {want}\n{run.describe()}")
    if outcome.rollout is None:
        found.append(f"{scenario.name}: no rollout written under {outcome.home.sessions}")
    if outcome.server.unscripted:
        found.append(f"{scenario.name}: Codex made {outcome.server.unscripted} request(s) beyond the script")
    return found


def main(argv: Sequence[str]) -> int:
    if list(argv) == ["--notes"]:  # rebuild NOTES.md from the kept sections, recording nothing
        write_notes({})
        return 0
    names = list(argv) or list(SCENARIOS)
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s): {unknown}; known: {list(SCENARIOS)}", file=sys.stderr)
        return 2
    failed: list[str] = []
    sections: dict[str, str] = {}
    for name in names:
        root = WORK_ROOT / name
        shutil.rmtree(root, ignore_errors=True)
        outcome = play(SCENARIOS[name], root)
        trouble = problems(outcome)
        failed += trouble
        if outcome.rollout is not None and not trouble:
            sections[name] = "\n".join(record(outcome))
            print(f"recorded {name}: {outcome.rollout.name}")
        else:
            print(f"FAILED {name}", file=sys.stderr)
    write_notes(sections)
    for text in failed:
        print(text, file=sys.stderr)
    return 1 if failed else 0


def write_notes(fresh: dict[str, str]) -> None:
    """Rewrite NOTES.md: fresh sections replace their old ones, sections not rerun are kept."""
    notes = FIXTURES / "NOTES.md"
    kept: dict[str, str] = {}
    if notes.exists():
        for chunk in notes.read_text().split("\n## ")[1:]:
            name = chunk.split("\n", 1)[0].strip()
            kept[name] = "## " + chunk.rstrip("\n") + "\n"
    kept.update(fresh)
    body = [HEADER.replace("{work_root}", str(WORK_ROOT))] + [
        kept[name] for name in SCENARIOS if name in kept
    ]
    notes.write_text("\n".join(body))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
