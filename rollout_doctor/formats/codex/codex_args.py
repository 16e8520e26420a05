"""What a ``codex`` command line resumes, read the way Codex's argument parser (clap) reads it.

Seen with the real 0.77.0, 0.169.0 and 0.171.0 (``--help`` of each command, and the probes of
docs/codex-facts.md, "Which session a resume opens"):

* ``codex [OPTS] resume [OPTS] [SESSION] [PROMPT]`` and ``codex [OPTS] exec|e [OPTS] resume [OPTS]
  [SESSION] [PROMPT]``; with ``--last`` the first positional word is the prompt. ``codex resume`` with
  neither (the TUI) opens the picker; ``codex exec resume`` with neither resumes nothing.
* ``-c key=value`` is accepted at every level and all of them count, in command-line order (a later
  one wins: clap prepends the root's overrides to the subcommand's, utils/cli/src/config_override.rs).
* ``-p NAME`` before ``exec`` is ignored by 0.77.0's ``codex exec`` (seen) and honoured by 0.169.0 and
  0.171.0 (seen): ``profile_before_exec`` keeps where it was given, config_layers.py decides.
* ``-i/--image FILE...`` takes every following word up to the next option (``codex exec -i a.png resume
  ID`` attaches ``resume`` and ``ID`` as images and resumes nothing: seen with both eras' ``--help``),
  except on ``codex exec resume``, whose ``-i`` takes one file.
* A value may follow its option (``-c x=1``), be glued to a long one (``--config=x=1``) or to a short
  one (``-cx=1``, ``-c=x=1``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

# Options of `codex`, `codex exec` and `codex [exec] resume` that take a value as the next word
# (their --help in 0.77.0, 0.169.0 and 0.171.0).
VALUE_OPTIONS = frozenset({
    "-c", "--config", "-m", "--model", "-p", "--profile", "-s", "--sandbox", "-a", "--ask-for-approval",
    "-C", "--cd", "-i", "--image", "--add-dir", "--local-provider", "--output-schema", "-o",
    "--output-last-message", "--color", "--enable", "--disable", "--remote", "--remote-auth-token-env",
    "--thread-source", "--cyber-access-program",
})
SHORT_VALUE_OPTIONS = frozenset(o for o in VALUE_OPTIONS if len(o) == 2)
STOP_OPTIONS = frozenset({"-h", "--help", "-V", "--version"})
IMAGES = frozenset({"-i", "--image"})
RESUME_FLAGS = frozenset({"--last", "--all", "--include-non-interactive"})  # options of `resume` itself
GLOBAL_FLAGS = frozenset({"--oss", "--ignore-user-config"})  # wherever they are given


@dataclass(frozen=True)
class ResumeRequest:
    """One resume: the session asked for, or --last, or (neither) the TUI's picker; and what decides which
    sessions Codex considers and the provider it resumes with."""

    session: str | None
    last: bool
    all_folders: bool
    exec_mode: bool
    cd: str | None = None  # `-C DIR` / `--cd DIR`: the folder Codex runs in, which --last and the picker match
    config: tuple[str, ...] = ()  # every `-c key=value`, in command-line order
    profile: str | None = None  # `-p NAME` / `--profile NAME`
    profile_before_exec: bool = False  # given before `exec`, where 0.77.0 ignores it
    include_non_interactive: bool = False  # the TUI's --include-non-interactive (0.169.0 and later)
    oss: bool = False  # --oss: the local open-source provider
    local_provider: str | None = None  # --local-provider NAME (with --oss)
    ignore_user_config: bool = False  # codex exec --ignore-user-config: config.toml is not read
    remote: str | None = None  # --remote ADDR: the sessions live on another app server

    @property
    def picker(self) -> bool:
        """``codex resume`` with neither a session nor --last: the TUI lists sessions to choose from."""
        return not self.last and self.session is None


class _Reading:
    """The words read so far. (A plain class: each dataclass costs the wrapper's start-up a millisecond.)"""

    __slots__ = ("config", "flags", "path", "profile_before_exec", "session", "values")

    def __init__(self) -> None:
        self.path: list[str] = []  # subcommands: [], [exec], [resume], [exec, resume]
        self.session: str | None = None
        self.flags: set[str] = set()
        self.config: list[str] = []
        self.values: dict[str, str] = {}
        self.profile_before_exec = False

    @property
    def at_resume(self) -> bool:
        return self.path[-1:] == ["resume"]


def _option(word: str, words: Iterator[str], greedy_images: bool) -> tuple[str, str | None]:
    """The option ``word`` names and its value, taken from ``words`` when it follows; a greedy ``-i``
    gets None: the caller skips its files (every word up to the next option)."""
    if word.startswith("--") and "=" in word:
        name, value = word.split("=", 1)
        return name, value
    if not word.startswith("--") and word[:2] in SHORT_VALUE_OPTIONS and len(word) > 2:
        value = word[2:]
        return word[:2], value.removeprefix("=")  # clap drops the `=` of `-c=x`
    if word in VALUE_OPTIONS and not (word in IMAGES and greedy_images):
        return word, next(words, None)
    return word, None


def _take_option(reading: _Reading, name: str, value: str | None) -> None:
    if name in ("-c", "--config"):
        if value is not None:
            reading.config.append(value)
    elif name in ("-p", "--profile"):
        reading.values["profile"] = value or ""
        reading.profile_before_exec = not reading.path
    elif name in ("-C", "--cd"):
        reading.values["cd"] = value or ""
    elif name in ("--local-provider", "--remote"):
        reading.values[name.lstrip("-")] = value or ""
    elif name in GLOBAL_FLAGS or (reading.at_resume and name in RESUME_FLAGS):
        reading.flags.add(name)


def _read(argv: list[str]) -> _Reading | None:
    """The words of ``codex ARGV``; None when it is no resume (another command, a prompt, help)."""
    reading = _Reading()
    words = iter(argv)
    pending_images = False
    for word in words:
        if word == "--":
            rest = list(words)
            if reading.at_resume and reading.session is None and rest:
                reading.session = rest[0]
            break
        if word in STOP_OPTIONS:
            return None
        if word.startswith("-") and word != "-":
            greedy = reading.path != ["exec", "resume"]
            name, value = _option(word, words, greedy)
            _take_option(reading, name, value)
            pending_images = name in IMAGES and greedy and value is None
            continue
        if pending_images:
            continue  # `-i a.png b.png ...`: clap takes every word up to the next option as an image
        if reading.at_resume:
            reading.session = reading.session or word  # the first positional; with --last it is the prompt
        elif not reading.path and word in ("exec", "e"):
            reading.path.append("exec")
        elif reading.path in ([], ["exec"]) and word == "resume":
            reading.path.append("resume")
        else:
            return None  # another subcommand, or a prompt: `codex "resume the work"`
    return reading if reading.at_resume else None


def resume_request(argv: list[str]) -> ResumeRequest | None:
    """What ``codex ARGV`` resumes, or None when it resumes nothing the guard can look at (another
    command, help, or ``codex exec resume`` with neither a session nor --last)."""
    reading = _read(argv)
    if reading is None:
        return None
    exec_mode = reading.path[0] == "exec"
    last = "--last" in reading.flags
    if exec_mode and not last and reading.session is None:
        return None  # codex exec resume asks for a session or --last; there is no picker
    return ResumeRequest(
        None if last else reading.session, last, "--all" in reading.flags, exec_mode,
        reading.values.get("cd") or None, tuple(reading.config), reading.values.get("profile") or None,
        reading.profile_before_exec, "--include-non-interactive" in reading.flags, "--oss" in reading.flags,
        reading.values.get("local-provider") or None, "--ignore-user-config" in reading.flags,
        reading.values.get("remote") or None,
    )
