"""What a ``claude`` command line resumes, read as its option parser reads it (2.1.332 ``--help``).

* ``-r, --resume [value]``: a session id resumes that session; another word is a search term for the
  interactive picker, and no word opens the picker.
* ``-c, --continue``: the most recent conversation in the current folder.
* ``--resume=ID`` is the same as ``--resume ID``; after ``--`` every word is the prompt.
"""

from __future__ import annotations

from dataclasses import dataclass

from rollout_doctor.formats.claude.home import UUID


@dataclass(frozen=True)
class ClaudeResume:
    session: str | None  # the session id --resume names
    continue_last: bool  # --continue
    search: str | None = None  # --resume with a word that is no session id: the picker, filtered

    @property
    def picker(self) -> bool:
        return self.session is None and not self.continue_last


def resume_request(args: list[str]) -> ClaudeResume | None:
    """The resume ``args`` ask for, or None when they resume nothing."""
    for at, word in enumerate(args):
        if word == "--":
            return None
        if word in ("-c", "--continue"):
            return ClaudeResume(None, True)
        if word.startswith("--resume="):
            return _named(word.split("=", 1)[1])
        if word in ("-r", "--resume"):
            value = args[at + 1] if at + 1 < len(args) and not args[at + 1].startswith("-") else None
            return _named(value)
    return None


def _named(value: str | None) -> ClaudeResume:
    if value is not None and UUID.match(value):
        return ClaudeResume(value.lower(), False)
    return ClaudeResume(None, False, value)
