"""What the Responses API wants of what an item carries besides its pairing: the prefix of its own ``id``,
the URL of an image in a tool output, and a reasoning item's ``content``.

Codex 0.169.0 and 0.171.0 send an item's ``id`` as the rollout holds it (seen: ``fc_`` on a custom tool
call, ``item_…`` on a reasoning item, ``review_rollout_user`` on a message), except a message id that is a
bare UUID, which they leave out; 0.77.0 leaves every item id out (seen: a function call's, a message's
and a reasoning item's). The API checks each id's prefix against
the item's type and refuses a mismatch ("Invalid 'input[N].id': 'fc_…'. Expected an ID that begins with
'ctc'.", openai/codex#40039). The prefixes below are the ones those refusals name; an output's id is not
checked (no report shows the API refusing one, and Codex writes its own as ``fco_``/``ctco_``).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

# Item type -> the prefix the API wants of its id (#40039: 'ctc'; #33176 and #27928: 'msg';
# jlcodes99/cockpit-tools#2090: 'rs'; continuedev/continue#11494: 'fc').
ID_PREFIXES = {"message": "msg", "function_call": "fc", "custom_tool_call": "ctc", "reasoning": "rs"}
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def bad_id(item_type: str, item_id: Any) -> str | None:
    """``item_id`` when the API would refuse it for an item of this type; None when it is fine or absent."""
    prefix = ID_PREFIXES.get(item_type)
    if prefix is None or not isinstance(item_id, str) or item_id.startswith(prefix):
        return None
    return item_id


def dropped_by_codex(item_type: str, item_id: str) -> bool:
    """Whether 0.169.0 and 0.171.0 leave this id out of the request (a message's bare UUID, seen run)."""
    return item_type == "message" and UUID.fullmatch(item_id) is not None


DATA_IMAGE = re.compile(r"data:image/[A-Za-z0-9.+-]+;base64,[A-Za-z0-9+/=\s]+\Z", re.DOTALL)


def image_url_problem(url: str) -> str | None:
    """Why the API refuses ``url`` as an ``input_image.image_url``: it takes an http(s) URL or a base64
    data URL of an image ("Expected a valid URL", openai/codex#33011; "Expected a base64-encoded data URL
    with an image MIME type", openai/codex#32287)."""
    if url.startswith("data:"):
        return None if DATA_IMAGE.match(url) else "is a data URL without an image MIME type and base64 data"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "is not a valid URL"
    if parts.scheme in ("http", "https") and parts.netloc:
        return None
    return "is not a valid URL"


def output_image_problem(output: Any) -> tuple[str, str] | None:
    """(where, why) of the first image in a tool output's content items whose URL the API refuses."""
    if not isinstance(output, list):
        return None
    for n, part in enumerate(output):
        if isinstance(part, dict) and part.get("type") == "input_image":
            url = part.get("image_url")
            if isinstance(url, str) and (problem := image_url_problem(url)) is not None:
                return f"output[{n}].image_url", problem
    return None


def reasoning_content_items(content: Any) -> int | None:
    """How many items a reasoning ``content`` array holds, when it holds any: the API takes at most none
    ("array too long. Expected an array with maximum length 0", openai/codex#36551)."""
    return len(content) if isinstance(content, list) and content else None
