"""Reasoning text another provider wrote, which the OpenAI API refuses.

What it checks: a reasoning item in the history Codex sends whose ``content`` is a non-empty array
(``reasoning_text`` items). Codex writes ``"content":null`` for the OpenAI API's reasoning, which comes
encrypted; a third-party Responses-compatible provider (a DeepSeek relay, gpt-oss behind a proxy) returns
its reasoning as text, and Codex keeps it.

Why it breaks a resume: once the user switches back to the official API, every request of the session is
refused: "Invalid 'input[7].content': array too long. Expected an array with maximum length 0, but got an
array with length 1 instead." (code ``array_above_max_length``; openai/codex#36551, and the same words in
Wei-Shaw/sub2api#5178). A provider that wrote the text takes it back, so the session resumes while that
provider is configured.

Effect on a resume: refused by the OpenAI API. Codex 0.169.0 and 0.171.0 send the array as written
(``tests/test_e2e_api_checks.py``), and so does 0.77.0 (seen once).

Example::

    {"type":"response_item","payload":{"type":"reasoning","summary":[],"content":[{"type":"reasoning_text","text":"Let me look at the tests first."}],"encrypted_content":null}}

Fix (unsafe): set ``content`` to null, as Codex writes it for the OpenAI API. This removes the reasoning
text the other provider returned (the model is no longer shown it); its summary, its id and any
``encrypted_content`` stay. The removed text stays in the backup (``undo`` restores it). Encrypted
reasoning from another provider may still be refused by the API; this rule cannot tell whose it is.
"""

from __future__ import annotations

from collections.abc import Iterator

from rollout_doctor.core.fixes import Applicability
from rollout_doctor.formats.codex.fixbuilder import FixBuilder
from rollout_doctor.formats.codex.rules.base import Context, Diagnostic, found

CODE = "RD113"
NAME = "foreign-reasoning-content"
SUMMARY = "reasoning text from another provider, which the OpenAI API refuses"
FIX_SAFETY = "unsafe: removes the reasoning text (content set to null)"
CATEGORY = "pairing"
TARGET = "responses"  # the Chat wire sends no reasoning items and no item ids
EFFECT = "refused"
UPSTREAM = ("#36551", "sub2api#5178")


def check(ctx: Context) -> Iterator[Diagnostic]:
    for item in ctx.notable:
        if item.reasoning_content is None:
            continue
        builder = FixBuilder(ctx.model)
        builder.set_field(item, "content", None, "reasoning text removed")
        n = item.reasoning_content
        fix = builder.build(f"remove the {n} reasoning text item(s) of the reasoning at {item.where}",
                            Applicability.UNSAFE)
        yield found(item.line, f"reasoning at {item.where} holds {n} item(s) of reasoning text; the OpenAI API "
                               "takes none", None, fix)
