"""Which shapes of a tool's ``output`` each Codex release reads, and why it drops the others."""

from __future__ import annotations

from typing import Any

# Content items Codex reads inside an array `output` (FunctionCallOutputContentItem), each with the string
# field it cannot do without. Seen by resuming hand-made rollouts with 0.77.0, 0.169.0 and 0.171.0
# (tests/test_e2e_shapes.py, docs/codex-facts.md "Tool output shapes"): input_text and input_image are read
# by all three; encrypted_content and input_audio by 0.169.0 and 0.171.0 only (0.77.0 drops the line,
# "failed to parse rollout line"). output_text, any other type, a missing or non-string field: all three
# drop the line and send 'aborted' in place of the output.
OUTPUT_CONTENT_FIELDS = {"input_text": "text", "input_image": "image_url",
                         "encrypted_content": "encrypted_content", "input_audio": "audio_url"}
# Read from 0.169.0 on (0.169.0 and 0.171.0 seen), dropped by 0.77.0; releases in between were not tried.
NEWER_OUTPUT_CONTENT_TYPES = frozenset({"encrypted_content", "input_audio"})
NEWER_OUTPUT_RELEASE = "0.169.0"
# input_image.detail (ImageDetail): 0.169.0 and 0.171.0 drop the line for any other string (seen: "ultra");
# 0.77.0 ignores the field. Absent and null are read by all three.
IMAGE_DETAILS = frozenset({"auto", "low", "high", "original"})


def output_shape(output: Any, item_type: str) -> tuple[str | None, str | None]:
    """Why Codex would drop a function or custom tool output with this ``output`` value: (why every release
    seen drops it, or 0.169.0 and 0.171.0 do; why only releases before 0.169.0 do), None where none does."""
    if isinstance(output, str):
        return None, None
    if not isinstance(output, list):
        kind = type(output).__name__ if output is not None else "null"
        return f"output is {kind}, not a string or a list of content items", None
    older = None
    for n, part in enumerate(output):
        if not isinstance(part, dict):
            return f"output[{n}] is not an object", None
        kind = part.get("type")
        if not isinstance(kind, str) or kind not in OUTPUT_CONTENT_FIELDS:  # a list is unhashable
            return f"output[{n}] has content type {kind!r}", None
        field = OUTPUT_CONTENT_FIELDS[kind]
        if not isinstance(part.get(field), str):
            return f"output[{n}] ({kind}) has no string {field}", None
        if kind == "input_image":
            detail = part.get("detail")
            if detail is not None and (not isinstance(detail, str) or detail not in IMAGE_DETAILS):
                return (f"output[{n}] (input_image) has detail {detail!r} (0.77.0 ignores it; 0.169.0 and "
                        "0.171.0 cannot read it)"), None
        if older is None and kind in NEWER_OUTPUT_CONTENT_TYPES:
            older = f"output[{n}] is {kind}"
    if older is None and item_type == "custom_tool_call_output":
        # 0.77.0's CustomToolCallOutput.output is a String ("invalid type: sequence, expected a string");
        # 0.169.0 and 0.171.0 read a list as they do for a function output.
        older = "output is a list, not a string"
    return None, older
