"""An image in a tool output whose URL the API refuses.

What it checks: an ``input_image`` item in a function or custom tool output, in the history Codex sends,
whose ``image_url`` is neither an ``http(s)`` URL nor a base64 data URL of an image: a file path, an
empty string, a data URL of another MIME type or without base64 data. A tool (an MCP server, a
screenshot helper) that answered with a path instead of the image's bytes leaves one.

Why it breaks a resume: the API refuses the request, on every resume: "Invalid
'input[284].output[1].image_url'. Expected a valid URL" (openai/codex#33011 on 0.144.4), or, for a
data URL, "Expected a base64-encoded data URL with an image MIME type" (#32287 on 0.144.0).

Effect on a resume: refused, when the model takes images. Codex 0.169.0 and 0.171.0 send the item as
written to such a model (``tests/test_e2e_api_checks.py``); to a text-only model they send a note in its
place ("image content omitted because it could not be processed"), and the session resumes.

Example::

    {"type":"response_item","payload":{"type":"function_call_output","call_id":"call_A","output":[{"type":"input_text","text":"screenshot"},{"type":"input_image","image_url":"/tmp/shot.png"}]}}

Fix (unsafe): replace the image item with an ``input_text`` item saying that rollout-doctor removed an
image whose URL the API refused, and what the URL began with. The model loses the image, which it could
never be sent; the removed bytes stay in the backup (``undo`` restores them).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rollout_doctor.core.fixes import Applicability
from rollout_doctor.formats.codex.fixbuilder import FixBuilder
from rollout_doctor.formats.codex.item_ids import image_url_problem
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic, found

CODE = "RD112"
NAME = "bad-image-url"
SUMMARY = "an image in a tool output whose URL the API refuses"
FIX_SAFETY = "unsafe: replaces the image with a note saying it was removed"
CATEGORY = "pairing"
EFFECT = "refused"
UPSTREAM = ("#33011", "#32287")


def stand_in(url: str, problem: str) -> dict[str, Any]:
    shown = url if len(url) <= 80 else url[:77] + "..."
    return {"type": "input_text",
            "text": f"[rollout-doctor removed an image here: its image_url {problem} for the API: {shown!r}]"}


def replaced(output: list[Any]) -> tuple[list[Any], int]:
    """The output with each refused image replaced by a note, and how many were replaced."""
    out, count = [], 0
    for part in output:
        url = part.get("image_url") if isinstance(part, dict) and part.get("type") == "input_image" else None
        problem = image_url_problem(url) if isinstance(url, str) else None
        if problem is not None:
            out.append(stand_in(url, problem))  # type: ignore[arg-type]
            count += 1
        else:
            out.append(part)
    return out, count


def check(ctx: Context) -> Iterator[Diagnostic]:
    for item in ctx.notable:
        if item.image_problem is None:
            continue
        where, problem = item.image_problem
        builder = FixBuilder(ctx.model)
        output, count = replaced(builder.payload(item)["output"])
        builder.set_field(item, "output", output, "image replaced by a note")
        fix = builder.build(f"replace {count} image(s) in the output at {item.where} with a note",
                            Applicability.UNSAFE)
        yield found(item.line, f"{item.type} at {item.where}: {where} {problem}", item.call_id, fix)
