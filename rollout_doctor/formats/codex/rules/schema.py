"""A line that does not match the packaged JSON Schema of the known line types.

What it checks: each envelope line (``session_meta``, ``response_item``, ``compacted``,
``turn_context``, ``event_msg``) against ``rollout_doctor/formats/codex/schema/rollout.schema.json``: required fields
and their types (a ``call_id`` that is a number, ``arguments`` that are an object instead of a JSON
string, a ``session_meta`` without ``cwd``…). Legacy bare items are checked against the response item
part. Unknown fields and unknown line types pass: newer Codex writes them and needs them kept.

Why it breaks a resume: Codex skips a line it cannot deserialize, silently, so its content is lost to
the model; a skipped call or output then surfaces as one of the pairing errors.

Effect on a resume: dropped (what Codex does with a line it cannot read, docs/codex-format.md; this rule's
findings were not each tried against a release).

Example::

    {"timestamp":"…","type":"response_item","payload":{"type":"function_call","name":"shell","arguments":{"command":["ls"]},"call_id":"call_A"}}

Fix: none; the rule reports where the shape is wrong. It is off by default because it reads and
validates every line: run it with ``--select schema`` (or ``--select ALL``).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import orjson

from rollout_doctor.formats.codex.records import LineKind
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic, found

CODE = "RD204"
NAME = "schema"
SUMMARY = "a line that does not match the JSON Schema of its line type (opt-in)"
FIX_SAFETY = "no fix: reports only"
DEFAULT = False
CATEGORY = "structure"
EFFECT = "dropped"

CHECKED = frozenset({LineKind.SESSION_META, LineKind.RESPONSE_ITEM, LineKind.COMPACTED,
                     LineKind.TURN_CONTEXT, LineKind.EVENT})


@lru_cache(maxsize=1)
def validators() -> tuple[Any, Any]:
    """The line validator and the response-item validator, compiled once per process."""
    # Lazy, as are the tempfile and random that importlib.resources pulls in: only this rule needs them.
    from importlib import resources

    import jsonschema

    schema = orjson.loads(resources.files("rollout_doctor").joinpath("formats/codex/schema/rollout.schema.json").read_bytes())
    cls = jsonschema.validators.validator_for(schema)
    line = cls(schema)
    item = cls({**schema, "$ref": "#/$defs/response_item", "required": [], "allOf": [], "properties": {}})
    return line, item


def _where(error: Any) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return path.lstrip(".") or "the line"


def check(ctx: Context) -> Iterator[Diagnostic]:
    import jsonschema

    line_validator, item_validator = validators()
    legacy = ctx.model.generation == "legacy"
    for line, kind in enumerate(ctx.model.kinds):
        if kind not in CHECKED:
            continue
        value = ctx.model.parsed(line)
        validator = item_validator if legacy and kind == LineKind.RESPONSE_ITEM else line_validator
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
        if error is not None:
            yield found(line, f"line {line + 1}: at {_where(error)}: {error.message[:200]}")
