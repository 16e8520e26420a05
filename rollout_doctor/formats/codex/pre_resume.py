"""Guarding what a ``codex`` command line resumes: the shell wrapper's ``rollout-doctor pre-resume``.

The session is chosen as that command line makes Codex choose it (codex_args.py reads the words,
config_layers.py the settings they run with, last_session.py the order), and judged for the wire its
provider speaks. What was seen with the real 0.169.0 and 0.171.0 (docs/codex-facts.md, "Which session a
resume opens"):

* ``codex exec resume --last``: the newest session of the provider the command line selects (``-c
  model_provider=…``, ``--profile``), of any source, in the current folder (``-C DIR``) unless ``--all``.
* ``codex resume --last`` (the TUI): the newest *interactive* session (cli, vscode), of any provider,
  in the folder unless ``--all``; ``--include-non-interactive`` adds exec and mcp sessions.
* ``codex resume`` with neither (the picker): the same sessions, newest first, 25 to a page
  (``PAGE_SIZE``, tui/src/resume_picker.rs). The first page is guarded, and the receipt says which.
* ``--remote ADDR``: the sessions are another app server's; nothing here is guarded.

0.77.0 chose differently (the newest file name, with the provider filter; docs/codex-facts.md):
``guard --last --order created`` keeps that rule; the wrapper follows the 2026 releases.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from rollout_doctor.core.exitcodes import CLEAN, ERROR
from rollout_doctor.formats.codex.codex_args import ResumeRequest
from rollout_doctor.formats.codex.config_layers import Settings, resume_settings
from rollout_doctor.formats.codex.guard import PREFIX, GuardResult, guard
from rollout_doctor.formats.codex.home import SESSIONS
from rollout_doctor.formats.codex.home import configured_home as codex_home
from rollout_doctor.formats.codex.last_session import (
    INTERACTIVE_SOURCES,
    NON_INTERACTIVE_SOURCES,
    Wanted,
    newest,
)
from rollout_doctor.formats.codex.rules import Options
from rollout_doctor.formats.codex.sessions import Session, SessionNotFound, resolve

PICKER_PAGE = 25  # the sessions the TUI's picker loads first (PAGE_SIZE, tui/src/resume_picker.rs)


def wanted_by(request: ResumeRequest, settings: Settings, folder: Path) -> Wanted:
    """The sessions ``request``'s --last or picker chooses among."""
    cwd = None if request.all_folders else folder
    if request.exec_mode:
        return Wanted(settings.provider, cwd)
    sources = INTERACTIVE_SOURCES | (NON_INTERACTIVE_SOURCES if request.include_non_interactive else frozenset())
    return Wanted(None, cwd, sources)


def describe(wanted: Wanted) -> str:
    """What ``wanted`` keeps, for a receipt."""
    kinds = "interactive " if wanted.sources == INTERACTIVE_SOURCES else ""
    provider = f" of provider {wanted.provider!r}" if wanted.provider is not None else ""
    folder = f" in {wanted.cwd}" if wanted.cwd is not None else " in any folder"
    return f"{kinds}sessions{provider}{folder}"


def wire_options(options: Options, session: Session, settings: Settings) -> Options:
    """``options`` with the wire the session is resumed on, unless --target gave one: that of the provider
    the command line selects, or of the one it was written with (config.session_wire)."""
    if options.target is not None:
        return options
    from rollout_doctor.formats.codex.config import session_wire
    from rollout_doctor.formats.codex.lineage import read_head

    meta = read_head(session.path)
    written_with = meta.model_provider if meta is not None else None
    return replace(options, target=session_wire(written_with, config=settings.config, provider=settings.provider))


def _guard_one(session: Session, options: Options, settings: Settings, force: bool) -> GuardResult:
    return guard(None, False, wire_options(options, session, settings), chosen=session, force=force)


def _picker(found: list[Session], wanted: Wanted, options: Options, settings: Settings,
            force: bool) -> GuardResult:
    """Guard the picker's first page. The picker lets the user choose, so a session that stays broken
    does not stop it (exit 0); the receipt names it."""
    if not found:
        return GuardResult(CLEAN, f"{PREFIX}: `codex resume` lists no {describe(wanted)}; nothing to guard")
    results = [_guard_one(session, options, settings, force) for session in found]
    needing_care = [r.receipt for r in results if r.code != CLEAN or not r.receipt.endswith("ready to resume")]
    summary = (f"{PREFIX}: guarded the {len(found)} newest {describe(wanted)} (the picker's first page): "
               f"{len(found) - len(needing_care)} ready as they were")
    if needing_care:
        summary += f", {len(needing_care)} below"
    return GuardResult(CLEAN, "\n".join([summary, *needing_care]))


def pre_resume(request: ResumeRequest, options: Options, home: Path | None = None,
               force: bool = False) -> GuardResult:
    """Guard what ``request`` resumes: its session, its --last, or its picker's first page."""
    if request.remote:
        return GuardResult(CLEAN, f"{PREFIX}: --remote {request.remote}: the sessions are that app server's; "
                              "nothing here was guarded")
    home = home or codex_home()
    settings = resume_settings(request, home)
    folder = Path(os.path.abspath(os.path.expanduser(request.cd))) if request.cd else Path.cwd()
    if request.session is not None:
        try:
            session = resolve(request.session, False, home=home)
        except SessionNotFound as exc:
            return GuardResult(ERROR, f"{PREFIX}: {exc}")
        return _guard_one(session, options, settings, force)
    wanted = wanted_by(request, settings, folder)
    if request.picker:
        return _picker(newest(home, wanted, limit=PICKER_PAGE), wanted, options, settings, force)
    found = newest(home, wanted)
    if not found:
        hint = " (add --all for every folder)" if wanted.cwd is not None else ""
        return GuardResult(ERROR, f"{PREFIX}: no {describe(wanted)} under {home / SESSIONS}{hint}")
    return _guard_one(found[0], options, settings, force)
