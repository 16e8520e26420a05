"""A rule's documentation for a person to read: ``rule NAME``, ``rule --all``, and the README's rule table.

The documentation is the rule module's docstring, written in a small part of reStructuredText: code
between double backticks, a paragraph ending ``Example::`` followed by an indented literal block, ``* ``
list items, and paragraphs opening with a label (``What it checks:``, ``Fix (safe):``). ``blocks`` reads that; ``print_rule`` shows
it with rich (headings, code blocks, inline code) on a colour terminal, and as plain text, wrapped to the
width, with inline code in single backticks, in a pipe or under NO_COLOR; ``markdown`` writes it for the
README (scripts/rules_markdown.py).
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Iterable
from typing import NamedTuple

from rich.console import Console
from rich.rule import Rule as Line
from rich.text import Text

from rollout_doctor.core.rules import Rule

INLINE_CODE = re.compile(r"``(.+?)``")
LABEL = re.compile(r"([A-Z][A-Za-z ()]{1,30}):\s+")  # "What it checks: ", "Fix (safe): "
BULLET = "* "
HEADING_WORDS = 3  # "Example::" alone heads its code; "It reads as follows::" is a sentence


class Block(NamedTuple):
    kind: str  # "text", "code" (a literal block, dedented) or "item" (one "* " list item)
    text: str  # its lines joined with newlines (a text's and an item's without their indentation)
    label: str = ""  # the label a text opens with ("What it checks"), taken out of ``text``


def paragraphs(doc: str) -> list[list[str]]:
    """The docstring's runs of non-blank lines."""
    runs: list[list[str]] = [[]]
    for line in doc.splitlines():
        if line.strip():
            runs[-1].append(line.rstrip())
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def blocks(doc: str) -> list[Block]:
    """The docstring as blocks: texts (a label split off), literal blocks after ``::``, list items."""
    out: list[Block] = []
    literal = False  # a paragraph ended with "::": the indented ones after it are code
    for run in paragraphs(doc):
        if literal and run[0].startswith(" "):
            code = textwrap.dedent("\n".join(run))
            if out[-1].kind == "code":  # a blank line inside the literal block
                code = out.pop().text + "\n\n" + code
            out.append(Block("code", code))
            continue
        text = "\n".join(line.strip() for line in run)
        literal = text.endswith("::")
        if run[0].startswith(BULLET):
            out.extend(Block("item", item.strip()) for item in ("\n" + text).split("\n" + BULLET) if item.strip())
        elif literal and "\n" not in text and len(text.split()) <= HEADING_WORDS:
            out.append(Block("text", "", label=text[:-2]))  # "Example::": a heading over its code
        else:
            text = text[:-1] if literal else text  # "as follows::" reads "as follows:"
            label = LABEL.match(text)
            out.append(Block("text", text[label.end():], label[1]) if label else Block("text", text))
    return out


class Look:
    """The styles of a colour terminal; none at all in a pipe or under NO_COLOR (not even bold)."""

    def __init__(self, out: Console) -> None:
        self.on = out.is_terminal and not out.no_color

    def __call__(self, style: str) -> str:
        return style if self.on else ""


def inline(text: str, look: Look) -> Text:
    """``text`` as one paragraph (its line breaks are the source's wrapping), with the code between double
    backticks shown as code: styled on a colour terminal, in single backticks otherwise."""
    out = Text()
    for n, part in enumerate(INLINE_CODE.split(" ".join(text.split("\n")))):
        out.append(part if not n % 2 or look.on else f"`{part}`", look("bold cyan") if n % 2 else "")
    return out


def print_rule(out: Console, rule: Rule) -> None:
    look = Look(out)
    title, *body = blocks(rule.doc)
    out.print(Text.assemble((rule.code, look("bold red")), " ", (rule.name, look("bold magenta"))))
    out.print(wrapped(out, inline(title.text, look)))
    out.print(wrapped(out, Text.assemble(("Fix safety: ", look("bold")), rule.fix_safety)))
    previous = "text"
    for block in body:
        if not (block.kind == previous == "item" or block.kind == "code" and previous == "heading"):
            out.print()
        print_block(out, block, look)
        previous = "heading" if block.label and not block.text else block.kind


def print_block(out: Console, block: Block, look: Look) -> None:
    if block.kind == "code":  # as written, never wrapped: a terminal folds what is too long
        out.print(Text("\n".join("    " + line for line in block.text.splitlines()), style=look("green")))
    elif block.kind == "item":
        out.print(wrapped(out, inline(block.text, look), "  • ", "    "))
    if block.label:
        out.print(Text(block.label, style=look("bold underline")))
    if block.kind == "text" and block.text:
        text = block.text[:1].upper() + block.text[1:] if block.label else block.text  # "What it checks: a …"
        out.print(wrapped(out, inline(text, look)))


def wrapped(out: Console, text: Text, first: str = "", rest: str = "") -> Text:
    """``text`` wrapped to the console's width, ``first`` before its first line and ``rest`` before the
    others (a list item's hanging indent), with no spaces left at the ends of lines."""
    lines = text.wrap(out, max(20, out.width - len(rest)))
    result = Text()
    for n, line in enumerate(lines):
        line.rstrip()
        result.append_text(Text(first if n == 0 else rest) + line + Text("\n" if n < len(lines) - 1 else ""))
    return result


def print_rules(out: Console, rules: Iterable[Rule]) -> None:
    """Every rule's documentation, one after the other (``rule --all``)."""
    for n, rule in enumerate(rules):
        if n:
            out.print()
            out.print(Line(style="dim"))
        print_rule(out, rule)


def markdown_inline(text: str) -> str:
    return INLINE_CODE.sub(lambda m: f"`{m[1]}`", " ".join(text.split("\n")))


def markdown(rule: Rule) -> str:
    """One rule's documentation as a collapsed Markdown section."""
    summary = f"<code>{rule.code}</code> <code>{rule.name}</code>: {html.escape(rule.summary)}"
    parts = [f"<details><summary>{summary}</summary>"]
    previous = ""
    for block in blocks(rule.doc):
        if block.kind == "code":
            parts.append(f"```\n{block.text}\n```")
        elif block.kind == "item":
            item = f"* {markdown_inline(block.text)}"
            parts[-1:] = [f"{parts[-1]}\n{item}"] if previous == "item" else [parts[-1], item]
        else:
            label = f"**{block.label}:**" if block.label else ""
            parts.append(" ".join(filter(None, (label, markdown_inline(block.text)))))
        previous = block.kind
    return "\n\n".join([*parts, "</details>"]) + "\n"


def when_it_runs(rule: Rule) -> str:
    if rule.target:
        return f"with `--target {rule.target}`"
    return "by default" if rule.default else f"when selected (`--select {rule.name}`)"


def cell(text: str) -> str:
    return text.replace("|", "\\|")  # a table cell cannot hold a bare |


def markdown_section(rules: Iterable[Rule]) -> str:
    """The README's rule table, then every rule's documentation (scripts/rules_markdown.py)."""
    rules = list(rules)
    rows = [f"| {r.code} | `{r.name}` | {cell(r.summary)} | {cell(r.fix_safety)} | {when_it_runs(r)} |"
            for r in rules]
    table = "\n".join(["| code | name | what it finds | fix | runs |", "|---|---|---|---|---|", *rows])
    return "\n".join([table, "", *(markdown(r) for r in rules)])
