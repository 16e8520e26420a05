"""An output Codex cannot read, so it drops the whole line.

What it checks: a ``function_call_output`` or ``custom_tool_call_output`` whose ``output`` is neither a
string nor an array of content items Codex reads, or whose ``call_id`` is not a string. Codex's
deserializer rejects such a line and skips it silently. What each release reads, seen by resuming
hand-made rollouts with Codex 0.77.0, 0.169.0 and 0.171.0 (``tests/test_e2e_shapes.py``):

* every one of them: ``input_text`` (with a string ``text``) and ``input_image`` (with a string
  ``image_url``). No release reads ``output_text`` (the type of an assistant message's text), another
  type, or an item without its string field; a line holding one is dropped by all three.
* 0.169.0 and 0.171.0 only: ``encrypted_content`` (with a string ``encrypted_content``), ``input_audio``
  (with a string ``audio_url``), and an array as a ``custom_tool_call_output``'s output. 0.77.0 drops
  such a line ("failed to parse rollout line"). 0.169.0 and 0.171.0 also drop an ``input_image`` whose
  ``detail`` is not ``auto``, ``low``, ``high`` or ``original``, which 0.77.0 ignores.

Which release will resume a file is not written in it: ``session_meta.cli_version`` names the one that
wrote it. This rule takes the writer as the oldest release that will resume the file (Codex only moves
forward unless you downgrade it) and reports what that release, or a newer one seen, cannot read. So the
``detail`` problem is reported whoever wrote the file, and the items only 0.169.0 and later read are
reported unless the file shows it was written by such a release: a ``cli_version`` of 0.169.0 or later,
or an item ``id`` on the output (0.169.0 and 0.171.0 give every output they write one; 0.77.0 never does,
so an id marks a line a newer release appended to an old session). With ``--target chat`` they are always
reported: only releases older than 0.169.0 speak the Chat wire. What this leaves uncaught: a session
0.169.0 wrote, resumed by a downgraded 0.77.0. Releases between 0.77.0 and 0.169.0 were not tried and
are judged as 0.77.0.

Why it breaks a resume: the call then looks unanswered; Codex sends ``aborted`` in place of what the tool
really returned, and the model is told the tool failed when it ran. The old ``{content, success}``
object shape (Codex 0.2x), hand-written JSON objects and ``output_text`` items copied from a message
are the usual causes.

Effect on a resume: dropped. 0.77.0, 0.169.0 and 0.171.0 skip the line (0.77.0 logs "failed to parse
rollout line") and send ``aborted`` after the call instead (``tests/test_e2e_resume.py``,
``tests/test_e2e_shapes.py``): the model loses what the tool returned.

Example::

    {"type":"response_item","payload":{"type":"function_call_output","call_id":"call_A","output":{"content":"ok","success":true}}}
    {"type":"response_item","payload":{"type":"function_call_output","call_id":"call_B","output":[{"type":"output_text","text":"ok"}]}}

Fix (unsafe): make the output readable, keeping what it says. An ``output_text`` item becomes an
``input_text`` item with the same text, an unreadable image ``detail`` is removed, and, for a release
older than 0.169.0, ``encrypted_content`` and ``input_audio`` items are removed and a custom tool's
array becomes the text of its ``input_text`` items, one per line; the other items stay as they are.
Anything else (an object, an item without its field) is rewritten as a string: the ``content`` text of
the old object shape, else the value's JSON text. The model then sees the real result, in a form nobody
wrote, so it needs ``--unsafe-fixes``. A non-string ``call_id`` has no fix; an output with no
``call_id`` at all is ``orphan-output``'s (it can answer no call, whatever its shape).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson

from rollout_doctor.core.fixes import Applicability, Fix
from rollout_doctor.formats.codex.fixbuilder import FixBuilder
from rollout_doctor.formats.codex.output_shapes import (
    IMAGE_DETAILS,
    NEWER_OUTPUT_CONTENT_TYPES,
    NEWER_OUTPUT_RELEASE,
    output_shape,
)
from rollout_doctor.formats.codex.records import Item
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic, found

CODE = "RD107"
NAME = "bad-output-shape"
SUMMARY = "a tool output in a shape Codex drops"
FIX_SAFETY = "unsafe: rewrites what Codex cannot read (output_text as input_text), else the output as text"
CATEGORY = "pairing"  # a line Codex drops leaves its call unanswered
EFFECT = "dropped"

_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def release(version: str | None) -> tuple[int, int, int] | None:
    """``0.169.0`` (or ``0.170.0-alpha.2``) as a comparable tuple; None when it is not a version."""
    match = _VERSION.match(version or "")
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


NEWER = release(NEWER_OUTPUT_RELEASE)


def written_by_a_newer_release(ctx: Context, payload: dict[str, Any]) -> bool:
    """Whether the file shows it was written by a release that reads what only 0.169.0 and later read: its
    cli_version, or an item id on the output (which 0.169.0 and 0.171.0 write, and 0.77.0 never does)."""
    if ctx.options.target == "chat":  # 0.169.0 and 0.171.0 refuse the Chat wire at start-up
        return False
    written = release(ctx.model.cli_version)
    if written is not None and NEWER is not None and written >= NEWER:
        return True
    return isinstance(payload.get("id"), str)


def as_text(output: Any) -> str:
    if isinstance(output, dict) and isinstance(output.get("content"), str):
        return output["content"]
    return orjson.dumps(output).decode()


def _bad_detail(part: dict[str, Any]) -> bool:
    detail = part.get("detail")
    return detail is not None and (not isinstance(detail, str) or detail not in IMAGE_DETAILS)


def readable(output: Any, item_type: str, older: bool) -> tuple[Any, list[str]] | None:
    """``output`` with each content item Codex cannot read made readable and the others left alone, and
    what changed; None when only ``as_text`` can make it readable. ``older``: for a release before
    0.169.0."""
    if not isinstance(output, list):
        return None
    parts: list[Any] = []
    changes: list[str] = []
    for n, part in enumerate(output):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "output_text" and isinstance(part.get("text"), str):
            part = {key: "input_text" if key == "type" else value for key, value in part.items()}
            changes.append(f"output[{n}] output_text as input_text")
        elif kind == "input_image" and _bad_detail(part):
            part = {key: value for key, value in part.items() if key != "detail"}
            changes.append(f"output[{n}] detail removed")
        elif older and isinstance(kind, str) and kind in NEWER_OUTPUT_CONTENT_TYPES:
            changes.append(f"output[{n}] {kind} removed")
            continue
        if output_shape([part], "function_call_output")[0] is not None:
            return None
        parts.append(part)
    if older and item_type == "custom_tool_call_output":
        # As Codex itself turns content items into text (function_call_output_content_items_to_text): the
        # non-blank input_text texts, one per line.
        text = "\n".join(p["text"] for p in parts if p["type"] == "input_text" and p["text"].strip())
        return text, [*changes, "joined into a string"]
    return parts, changes


def _fix(ctx: Context, item: Item, payload: dict[str, Any], older: bool) -> Fix | None:
    if not isinstance(payload.get("call_id"), str) or "output" not in payload:
        return None
    builder = FixBuilder(ctx.model)
    made = readable(payload["output"], item.type, older)
    if made is None:
        builder.set_field(item, "output", as_text(payload["output"]), "output rewritten as text")
        return builder.build(f"rewrite the output at {item.where} as a string", Applicability.UNSAFE)
    value, changes = made
    builder.set_field(item, "output", value, "content items rewritten")
    return builder.build(f"rewrite the output at {item.where}: {', '.join(changes)}", Applicability.UNSAFE)


def _why_older(ctx: Context) -> str:
    if ctx.options.target == "chat":
        return "only releases older than 0.169.0 speak the Chat wire"
    writer = f"Codex {ctx.model.cli_version}" if ctx.model.cli_version else "an unknown release"
    return f"the file was written by {writer}"


def check(ctx: Context) -> Iterator[Diagnostic]:
    for item in ctx.notable:
        if item.call_id_problem is not None:
            continue  # orphan-output removes it: it answers no call, whatever its shape
        if item.output_ok and item.old_release_problem is None:
            continue
        payload = FixBuilder(ctx.model).payload(item)
        older = not written_by_a_newer_release(ctx, payload)
        if not item.output_ok:
            message = f"{item.output_problem}; Codex drops this line"
        elif older:
            message = (f"{item.old_release_problem}, which Codex 0.77.0 cannot read: it drops the line "
                       f"(0.169.0 and 0.171.0 read it), and {_why_older(ctx)}")
        else:
            continue
        yield found(item.line, f"{item.type} at {item.where}: {message}", item.call_id,
                    _fix(ctx, item, payload, older))
