"""A fixed file as a diff of the input it came from: what a rule case's ``fixed`` holds.

The unified format with no context lines (``diff -U0``): each hunk ``@@ -a,b +c,d @@`` lists the input
lines it removes (``-``) and the lines the fix wrote in their place (``+``); a move is a removal and an
addition. Input lines are bytes Codex may not be able to read (NUL, a byte order mark, bytes that are
not UTF-8): a ``-`` line shows them escaped (``\\x00``, ``\\ufeff``) and is only compared, never copied.
A ``+`` line is written as it is, so a fixed line must be printable text, which every fix writes.
``\\ No newline at end of file`` follows a line that has no line end.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

NO_NEWLINE = "\\ No newline at end of file\n"
_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@\n")


class DiffError(ValueError):
    pass


def shown(line: bytes) -> str:
    """A line's text without its line end, unprintable characters escaped."""
    text = line.rstrip(b"\n").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}"
                   for c in text)


def _as_text(line: bytes, sign: str) -> str:
    text = sign + shown(line) + "\n"
    return text if line.endswith(b"\n") else text + NO_NEWLINE


def _range(start: int, stop: int) -> str:
    """A hunk's range as ``diff`` writes it: an empty one names the line before it."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start if length == 0 else start + 1},{length}"


def lines_of(data: bytes) -> list[bytes]:
    """The lines of a file, each with its ``\\n`` (the last one may have none); only ``\\n`` ends a line."""
    parts = data.split(b"\n")
    return [part + b"\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def make(before: bytes, after: bytes) -> str:
    """The diff that turns ``before`` into ``after``; empty when they are equal."""
    old, new = lines_of(before), lines_of(after)
    out: list[str] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        out.append(f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@\n")
        out += [_as_text(line, "-") for line in old[i1:i2]]
        for line in new[j1:j2]:
            if shown(line) != line.rstrip(b"\n").decode("utf-8", "replace"):
                raise DiffError(f"the fixed file holds a line a diff cannot carry: {shown(line)[:80]}")
            out.append(_as_text(line, "+"))
    return "".join(out)


def apply(before: bytes, diff: str) -> bytes:
    """``before`` with ``diff`` applied; raises DiffError when the diff does not fit it."""
    old = lines_of(before)
    rest = [line + "\n" for line in diff.split("\n")[:-1]]
    out: list[bytes] = []
    copied = 0  # input lines up to here are in ``out`` or removed
    while rest:
        hunk = _HUNK.fullmatch(rest.pop(0))
        if hunk is None:
            raise DiffError("a diff is a list of hunks, each starting with its @@ header")
        start, length = int(hunk[1]), int(hunk[2] or 1)
        at = start if length == 0 else start - 1
        out += old[copied:at]
        for removed in old[at : at + length]:
            text = _as_text(removed, "-")
            taken = "".join(rest[: text.count("\n")])
            if taken != text:
                raise DiffError(f"input line {at + 1} is {text!r}, not {taken!r}")
            del rest[: text.count("\n")]
        copied = at + length
        while rest and rest[0].startswith("+"):
            added = rest.pop(0)[1:].encode()
            if rest and rest[0] == NO_NEWLINE:
                added = added[:-1]
                rest.pop(0)
            out.append(added)
    return b"".join(out + old[copied:])
