"""The README's rule table and every rule's documentation, as Markdown, from the rule modules themselves.

    python scripts/rules_markdown.py            # print it
    python scripts/rules_markdown.py --write    # put it into README.md, between the "rules" markers

The README's "Rules" section holds this output between ``<!-- rules:start -->`` and ``<!-- rules:end -->``;
tests/test_rule_docs.py fails when the two differ, so a rule's metadata or docstring and the README
cannot drift apart.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rollout_doctor.cli.rule_docs import markdown_section
from rollout_doctor.formats.claude import CLAUDE
from rollout_doctor.formats.codex import CODEX

README = ROOT / "README.md"
START, END = "<!-- rules:start -->\n", "<!-- rules:end -->\n"
# Claude Code's rules have a section of their own, in the README's part for Claude Code users.
CLAUDE_START, CLAUDE_END = "<!-- claude-rules:start -->\n", "<!-- claude-rules:end -->\n"


def generated(claude: bool = False) -> str:
    return markdown_section(CLAUDE.rules if claude else CODEX.rules)


def in_readme(text: str, claude: bool = False) -> str:
    """What the README holds between the markers."""
    start, end = (CLAUDE_START, CLAUDE_END) if claude else (START, END)
    return text.split(start, 1)[1].split(end, 1)[0]


def main(argv: list[str]) -> int:
    if argv != ["--write"]:
        sys.stdout.write(generated() + "\n" + generated(claude=True))
        return 0
    text = README.read_text()
    for claude, (start, end) in ((False, (START, END)), (True, (CLAUDE_START, CLAUDE_END))):
        text = text.replace(start + in_readme(text, claude) + end, start + generated(claude) + end)
    README.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
