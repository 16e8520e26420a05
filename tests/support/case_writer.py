"""Write a rule's data file (tests/cases/<rule>.toml) in its one layout, as ``--update`` rewrites it.

TOML has a reader in the standard library (tomllib) and none for writing, and the layout matters for
review: one item per line, one diagnostic per line, the fixed file as a diff in a literal block where
JSON needs no escaping. So the writer is this short one, for the few shapes a data file holds.
"""

from __future__ import annotations

import re
from typing import Any

from tests.support.case_files import GENERATIONS, ROW_KEYS, Expected, RuleCase

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
HEADER = """\
# {title}
# How to write a case: tests/cases/README.md. `python scripts/render_cases.py --update` rewrites the
# expectations from what the code does now; the file is rewritten whole, so notes go in `about`.
"""


def _plain(text: str) -> bool:
    return all(c.isprintable() for c in text)


def string(text: str) -> str:
    """A TOML string: a basic one, a literal one when that spares escapes (JSON text), escaped if need be."""
    if _plain(text) and '"' not in text and "\\" not in text:
        return f'"{text}"'
    if _plain(text) and "'" not in text:
        return f"'{text}'"
    return '"' + "".join(_ESCAPES.get(c, c if c.isprintable() else f"\\u{ord(c):04x}") for c in text) + '"'


def value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return string(v)
    if isinstance(v, list):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"no TOML for {v!r}")


def key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else string(name)


def block(text: str) -> str:
    """A multi-line string: literal (no escapes) when it can be."""
    if _plain(text.replace("\n", "")) and "'''" not in text:
        return "'''\n" + text + "'''"
    return string(text)


def _array(name: str, values: list[Any]) -> list[str]:
    return [f"{name} = [", *(f"    {value(v)}," for v in values), "]"]


def _expectation(generation: str, expected: Expected) -> list[str]:
    if not (expected.diagnostics or expected.remaining or expected.fixed is not None
            or expected.verdict != "resumes"):
        return []
    lines = ["", f"[case.{generation}]", f"verdict = {string(expected.verdict)}"]
    for name in ("diagnostics", "remaining"):
        rows = getattr(expected, name)
        if rows:
            lines += _array(name, [{k: row[k] for k in ROW_KEYS if row[k] is not None} for row in rows])
    if expected.fixed is not None:
        lines.append(f"fixed = {block(expected.fixed)}")
    return lines


def case_lines(case: RuleCase) -> list[str]:
    source = case.source
    lines = ["", "[[case]]", f"name = {string(case.name)}"]
    for name in ("about", "generations", "options", "meta", "bom", "no_meta"):
        if name in source:
            lines.append(f"{name} = {value(source[name])}")
    lines += _array("items", source["items"])
    for generation in GENERATIONS:
        if generation in case.expected:
            lines += _expectation(generation, case.expected[generation])
    return lines


def data_file(title: str, about: str, cases: list[RuleCase]) -> str:
    lines = [HEADER.format(title=title).rstrip("\n")]
    if about:
        lines += ["", f"about = {string(about)}"]
    for case in cases:
        lines += case_lines(case)
    return "\n".join(lines) + "\n"
