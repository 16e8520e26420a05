"""What the text report explains: the upstream reports behind each rule, the Codex release that wrote
each file with problems, and the summary that ends a folder check."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from rollout_doctor.cli.main import main
from rollout_doctor.core.rules import Rule
from rollout_doctor.formats.codex.rules import REGISTRY
from tests.support.codex_run import real_fixture
from tests.support.scenarios import NEW, OLD

# An upstream report as a rule's documentation cites one: #16255 (openai/codex's), openai/codex#16255,
# NousResearch/hermes-agent#102629.
REPORT = re.compile(r"(?:[\w.-]+/)?[\w.-]*#\d+")


@pytest.mark.parametrize("rule", REGISTRY.rules, ids=lambda rule: rule.name)
def test_each_rule_declares_the_upstream_reports_its_documentation_names(rule: Rule) -> None:
    assert [report for report in rule.upstream if report not in rule.doc] == []
    assert [cited for cited in REPORT.findall(rule.doc) if not cited.endswith(rule.upstream)] == []


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every real fixture, plus a 0.169.0 session whose output line was lost (its event survives)."""
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    target = tmp_path / "sessions"
    target.mkdir()
    for fixture in Path(real_fixture(f"{NEW}-responses-single-call")).parents[1].glob("*/rollout-*.jsonl"):
        shutil.copyfile(fixture, target / fixture.name)
    single = real_fixture(f"{NEW}-responses-single-call")
    lines = single.read_bytes().splitlines(keepends=True)
    (target / single.name).write_bytes(b"".join(l for l in lines if b'"type":"function_call_output"' not in l))
    return target


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_the_text_report_names_the_release_that_wrote_each_file_with_problems(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "check", str(folder))
    assert code == 1
    lines = out.splitlines()
    # Each session's header: id, name and verdict; folder, last change, release and size; its path.
    facts = [n for n, line in enumerate(lines) if line.startswith("  ") and " · Codex " in line]
    assert sorted(lines[n].split(" · ")[2] for n in facts) == ["Codex 0.169.0", "Codex 0.77.0"]
    paths = [lines[n + 1].strip() for n in facts]
    assert any(p.endswith(real_fixture(f"{OLD}-responses-interrupted-stream").name) for p in paths)


def test_a_folder_check_ends_with_a_summary(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _code, out = run(capsys, "check", str(folder))
    summary = out[out.index("count  files"):]
    rows = [line.split() for line in summary.splitlines()[1:3]]
    assert rows[0][:5] == ["2", "2", "RD101", "orphan-call", "safe"], "most frequent first, in how many files"
    assert "(1 recoverable with --unsafe-fixes)" in summary.splitlines()[1]
    assert rows[1][:5] == ["1", "1", "RD203", "ordinal-order", "safe"]
    assert f"Scanned {len(list(folder.iterdir()))} file(s): 2 session(s) with 3 problem(s)." in summary
    assert ("`rollout-doctor fix` would fix 3 of them in 2 file(s); with `fix --unsafe-fixes`, 1 call(s) get the "
            "output an event recorded instead of 'aborted'.") in summary
    assert "Codex releases of the files with problems: 0.169.0 (1 file(s)), 0.77.0 (1 file(s))." in summary


def test_the_summary_counts_what_needs_unsafe_fixes_and_what_has_no_fix(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    meta_broken = folder / real_fixture(f"{OLD}-responses-single-call").name
    data = meta_broken.read_bytes()
    meta_broken.write_bytes(data.replace(b'"id":"01a1fe9f-bd67', b'"id":"01a1fe9f-0000', 1))
    shape = folder / real_fixture(f"{OLD}-responses-parallel-calls").name
    lines = shape.read_bytes().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if b'"function_call_output"' in line)
    start = lines[at].index(b'"output":') + len(b'"output":')
    lines[at] = lines[at][:start] + b'{"content":"A\\n","success":true}}}\n'
    shape.write_bytes(b"".join(lines))
    _code, out = run(capsys, "check", str(folder))
    assert "1 more need `fix --unsafe-fixes` (they change what the model is told)" in out
    assert "1 have no automatic fix (`rollout-doctor rule NAME` explains each)" in out
    assert f"Scanned {len(list(folder.iterdir()))} file(s): 4 session(s) with 5 problem(s)." in out


def test_fix_says_when_aborted_hid_a_recoverable_output(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _code, out = run(capsys, "fix", "--dry-run", str(folder))
    assert "1 call(s) would get 'aborted' although an event recorded what the tool printed" in out
    _code, out = run(capsys, "fix", str(folder))
    assert "1 call(s) got 'aborted' although an event recorded what the tool printed" in out
    assert "`rollout-doctor undo FILE`, then `rollout-doctor fix --unsafe-fixes FILE`" in out


def test_the_json_report_carries_the_recoverable_alternative(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from importlib import resources

    import jsonschema
    import orjson

    _code, out = run(capsys, "check", "--format", "json", str(folder))
    report = orjson.loads(out)
    schema = orjson.loads(resources.files("rollout_doctor").joinpath("cli/schema/report.schema.json").read_bytes())
    jsonschema.validate(report, schema)
    orphans = [d for f in report["files"] for d in f["diagnostics"] if d["rule"] == "orphan-call"]
    pairs = sorted((d["fix"]["applicability"], d["alternative"]["applicability"] if d["alternative"] else "-")
                   for d in orphans)
    assert pairs == [("safe", "-"), ("safe", "unsafe")]
    assert report["summary"]["recoverable"] == 1
