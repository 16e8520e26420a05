"""The rule cases as data: one TOML file per rule in tests/cases/ (tests/cases/README.md says how to
write one), read here into cases, and rendered into the files of fixtures/cases/.

Each case renders, for each of its generations, into ``fixtures/cases/<rule>/<case>/<generation>/``:
``rollout-<time>-<uuid>.jsonl`` (the input, named so the session-meta id check runs),
``expected.json`` (about, options, the diagnostics ``check`` reports, what remains after ``fix``) and
``fixed.jsonl`` (the file ``fix`` writes; absent when it must write nothing).
"""

from __future__ import annotations

import codecs
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from tests.support import line_diff
from tests.support.rollouts import (
    GENERATIONS,
    Case,
    Renderer,
    Spec,
    bom,
    call,
    compacted,
    context,
    event,
    glued,
    inter_agent,
    item,
    meta_field,
    meta_here,
    no_meta,
    ordinal,
    out,
    out_raw,
    raw,
    reasoning,
    rollback,
    rollout_name,
    torn,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # the project's own dependency there
    import tomli as tomllib

PROJECT = Path(__file__).resolve().parents[2]
DATA = PROJECT / "tests" / "cases"
FIXTURES = PROJECT / "fixtures" / "cases"
CLEAN = "clean"  # the cases no rule may report on: tests/cases/clean.toml

# ``effect`` appears only where a case gives a diagnostic another effect than its rule's EFFECT.
ROW_KEYS = ("rule", "line", "call_id", "fix", "message", "effect")
CASE_KEYS = {"name", "about", "generations", "options", "meta", "bom", "no_meta", "items", *GENERATIONS}
EXPECTATION_KEYS = {"verdict", "diagnostics", "remaining", "fixed"}


class CaseFileError(ValueError):
    pass


@dataclass
class Expected:
    """What one generation of a case must give: rows as ``case_run.diagnostic_row`` makes them."""

    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    remaining: list[dict[str, Any]] = field(default_factory=list)
    fixed: str | None = None  # the diff from the input to the fixed file (line_diff); None: nothing written
    verdict: str = "resumes"  # what resuming the input does (core/verdict.py), as check's header says


@dataclass
class RuleCase(Case):
    expected: dict[str, Expected] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)  # the case as the data file holds it

    def input(self, generation: str) -> bytes:
        return Renderer(self, generation).render()

    def fixed(self, generation: str) -> bytes | None:
        diff = self.expected[generation].fixed
        return None if diff is None else line_diff.apply(self.input(generation), diff)

    def folder(self, generation: str) -> Path:
        return FIXTURES / self.rule / self.name / generation

    def expected_json(self, generation: str) -> bytes:
        expected = self.expected[generation]
        report = {"about": self.about, "options": self.options, "verdict": expected.verdict,
                  "diagnostics": expected.diagnostics, "remaining": expected.remaining}
        return orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n"

    def rendered(self, generation: str) -> dict[str, bytes]:
        """The files of fixtures/cases/<rule>/<case>/<generation>/, by name."""
        files = {rollout_name(self, generation): self.input(generation),
                 "expected.json": self.expected_json(generation)}
        fixed = self.fixed(generation)
        if fixed is not None:
            files["fixed.jsonl"] = fixed
        return files


def data_files(rule_names: list[str]) -> list[Path]:
    """The data files in the order their cases run: clean first, then the rules in registry order."""
    return [DATA / f"{name}.toml" for name in [CLEAN, *rule_names]]


def load(path: Path) -> tuple[str, list[RuleCase]]:
    """A data file's about text and its cases."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = set(data) - {"about", "case"}
    if unknown:
        raise CaseFileError(f"{path.name}: unknown keys {sorted(unknown)}")
    cases = [case_of(path.stem, entry) for entry in data.get("case", [])]
    names = [case.name for case in cases]
    if len(set(names)) != len(names):
        raise CaseFileError(f"{path.name}: two cases share a name (the name is the fixture folder's)")
    return data.get("about", ""), cases


def case_of(rule: str, entry: dict[str, Any]) -> RuleCase:
    where = f"{rule}/{entry.get('name', '?')}"
    unknown = set(entry) - CASE_KEYS
    if unknown:
        raise CaseFileError(f"{where}: unknown keys {sorted(unknown)}")
    items = [spec(item, where) for item in entry["items"]]
    if entry.get("meta"):
        items.insert(0, meta_field(**entry["meta"]))
    if entry.get("bom"):
        items.insert(0, bom())
    if entry.get("no_meta"):
        items.insert(0, no_meta())
    generations = tuple(entry.get("generations", GENERATIONS))
    stray = (set(entry) & set(GENERATIONS)) - set(generations)
    if stray or not set(generations) <= set(GENERATIONS):
        raise CaseFileError(f"{where}: expectations or generations outside {GENERATIONS}: {sorted(stray)}")
    expected = {g: expectation(entry.get(g, {}), where) for g in generations}
    return RuleCase(rule, entry["name"], items, generations, entry.get("options", {}), entry.get("about", ""),
                    expected, entry)


def expectation(table: dict[str, Any], where: str) -> Expected:
    if set(table) - EXPECTATION_KEYS:
        raise CaseFileError(f"{where}: unknown keys {sorted(set(table) - EXPECTATION_KEYS)}")
    rows = {key: [{k: row.get(k) for k in ROW_KEYS} for row in table.get(key, [])]
            for key in ("diagnostics", "remaining")}
    return Expected(rows["diagnostics"], rows["remaining"], table.get("fixed"), table.get("verdict", "resumes"))


# An item's kind, and the other keys it may have. The kind's value is its main argument.
ITEM_KEYS: dict[str, set[str]] = {
    "user": set(), "developer": set(), "assistant": set(), "call": {"kind", "cmd"}, "out": {"text", "kind"},
    "out_raw": {"value"}, "rollback": set(), "compacted": {"message"}, "torn": set(), "glued": set(),
    "raw": set(), "raw_bytes": set(), "event": set(),  # an event's other keys are its payload's fields
    "item": set(),  # a response item's payload as written, in any generation
    "inter_agent": {"trigger_turn"},  # an inter_agent_communication line (envelope and paginated only)
}
WORDS = {"context": context, "reasoning": reasoning, "session_meta": meta_here}


def spec(item: str | dict[str, Any], where: str) -> Spec:
    """The builder spec (tests/support/rollouts.py) of one item of a data file."""
    if isinstance(item, str):
        if item not in WORDS:
            raise CaseFileError(f"{where}: unknown item {item!r} (known: {', '.join(WORDS)})")
        return WORDS[item]()
    if "ordinal" in item:
        forced, line = item["ordinal"], {k: v for k, v in item.items() if k != "ordinal"}
        return ordinal(None if forced is False else forced, spec(line, where))
    kinds = [key for key in item if key in ITEM_KEYS]
    if len(kinds) != 1:
        raise CaseFileError(f"{where}: an item has one of {', '.join(ITEM_KEYS)}: {item!r}")
    kind = kinds[0]
    value, rest = item[kind], {k: v for k, v in item.items() if k != kind}
    if kind != "event" and set(rest) - ITEM_KEYS[kind]:
        raise CaseFileError(f"{where}: {kind} takes {sorted(ITEM_KEYS[kind])}, not {sorted(rest)}")
    return _build(kind, value, rest, where)


def _build(kind: str, value: Any, rest: dict[str, Any], where: str) -> Spec:
    if kind in ("user", "developer", "assistant"):
        return ("message", kind, value)
    if kind == "call":
        return call(value, rest.get("kind", "function"), rest.get("cmd", "echo hi"))
    if kind == "out":
        return out(value, rest.get("text", "ok"), rest.get("kind", "function"))
    if kind == "out_raw":
        return out_raw(value, rest["value"])
    if kind == "event":
        return event(value, **rest)
    if kind == "inter_agent":
        return inter_agent(value, rest.get("trigger_turn", False))
    if kind == "item":
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            raise CaseFileError(f"{where}: item takes a payload with a string type: {value!r}")
        return item(value)
    if kind == "rollback":
        return rollback(value)
    if kind == "compacted":
        return compacted([spec(i, where) for i in value], rest.get("message", "summary"))
    if kind == "torn":
        return torn(spec(value, where))
    if kind == "glued":
        first, second = value
        return glued(spec(first, where), spec(second, where))
    if kind == "raw":
        return raw(value.encode())
    return raw(codecs.escape_decode(value.encode())[0])  # raw_bytes: a Python bytes literal's body


def load_all(rule_names: list[str]) -> list[RuleCase]:
    return [case for path in data_files(rule_names) for case in load(path)[1]]


def rendered_tree(cases: list[RuleCase]) -> dict[Path, bytes]:
    """Every file fixtures/cases must hold, by path relative to it."""
    return {case.folder(generation).relative_to(FIXTURES) / name: data
            for case in cases for generation in case.generations
            for name, data in case.rendered(generation).items()}


def tree_on_disk() -> dict[Path, bytes]:
    return {path.relative_to(FIXTURES): path.read_bytes() for path in FIXTURES.rglob("*") if path.is_file()}
