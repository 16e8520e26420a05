"""Claude Code transcripts (``~/.claude/projects/<project>/<session uuid>.jsonl``) as a format."""

from rollout_doctor.formats.claude.format import CLAUDE, ClaudeFormat

__all__ = ["CLAUDE", "ClaudeFormat"]
