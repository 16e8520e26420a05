"""rollout-doctor: check and repair OpenAI Codex CLI session rollouts."""

__version__ = "0.1.0"
