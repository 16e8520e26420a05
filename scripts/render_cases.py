"""Render the rule cases (tests/cases/<rule>.toml) into fixtures/cases/<rule>/<case>/<generation>/.

    python scripts/render_cases.py            # write fixtures/cases from the data files
    python scripts/render_cases.py --update   # first rewrite every case's expectations from the code
    python scripts/render_cases.py --check    # exit 1 when fixtures/cases differs from the data files

The data files are the source. The rendered files are committed because the README's commands and
tests/test_golden.py run on fixtures/; tests/test_cases.py checks that the two agree. ``--update`` runs
check and fix on every case as tests/test_cases.py does and writes down what they said (diagnostics,
what remains, the fixed file as a diff), for review in the diff of tests/cases/, as ruff's snapshots are.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))  # run as a plain script: make `tests.support` importable

from rollout_doctor.formats.codex import check_file
from rollout_doctor.formats.codex.rules import RULES
from tests.support import line_diff
from tests.support.case_files import (
    CLEAN,
    FIXTURES,
    Expected,
    RuleCase,
    data_files,
    load,
    load_all,
    rendered_tree,
    tree_on_disk,
)
from tests.support.case_run import diagnostic_row, options_of, run_case
from tests.support.case_writer import data_file

TITLES = {CLEAN: "clean: sessions no rule may report on, and fix must leave as they are",
          **{rule.name: f"{rule.name} ({rule.code}): {rule.summary}" for rule in RULES}}


def observed(case: RuleCase, generation: str, folder: Path) -> Expected:
    """What check and fix do with the case now."""
    folder.mkdir(parents=True)
    run = run_case(case, generation, case.input(generation), folder)
    remaining = check_file(run.work, options_of(case)).diagnostics
    fixed = line_diff.make(run.original, run.work.read_bytes()) if run.fixed.written else None
    rows = [diagnostic_row(d) for d in run.diagnostics]
    return Expected(rows, [diagnostic_row(d) for d in remaining], fixed, run.verdict)


def update(path: Path, scratch: Path) -> None:
    about, cases = load(path)
    for case in cases:
        for generation in case.generations:
            folder = scratch / case.rule / case.name / generation
            case.expected[generation] = observed(case, generation, folder)
    path.write_text(data_file(TITLES[path.stem], about, cases), encoding="utf-8")


def render(cases: list[RuleCase]) -> int:
    """Write what differs and remove what no case renders; the number of files changed."""
    wanted, present = rendered_tree(cases), tree_on_disk()
    for stale in set(present) - set(wanted):
        (FIXTURES / stale).unlink()
    for path, data in wanted.items():
        if present.get(path) != data:
            (FIXTURES / path).parent.mkdir(parents=True, exist_ok=True)
            (FIXTURES / path).write_bytes(data)
    for folder in sorted(FIXTURES.rglob("*"), reverse=True):  # deepest first
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    changed = [path for path, data in wanted.items() if path in present and present[path] != data]
    return len(set(present) ^ set(wanted)) + len(changed)


def main(argv: Sequence[str]) -> int:
    names = [rule.name for rule in RULES]
    if "--update" in argv:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["ROLLOUT_DOCTOR_HOME"] = str(Path(tmp) / "state")
            for path in data_files(names):
                update(path, Path(tmp) / "cases")
    cases = load_all(names)
    if "--check" in argv:
        differ = rendered_tree(cases) != tree_on_disk()
        print("fixtures/cases differs from tests/cases: run scripts/render_cases.py" if differ else "in sync")
        return 1 if differ else 0
    print(f"{render(cases)} file(s) changed under fixtures/cases")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
