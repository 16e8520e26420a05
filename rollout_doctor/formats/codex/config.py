"""What the user's ``config.toml`` says about the wire a session is sent on.

Codex resumes a session with the provider ``config.toml`` selects now (the active profile's
``model_provider``, else the top-level one, else ``openai``); a session records the provider it was
written with (``session_meta.model_provider``). A provider's ``wire_api`` is ``responses`` (the
default, and the only wire of 2026 releases: 0.171.0 refuses ``wire_api = "chat"`` at start-up) or
``chat`` (0.77.0 and earlier), whose stricter rules add ``chat-adjacency``. A session is checked for the
Chat wire when either of its two providers speaks it: the check must not call a session fine that the
provider Codex will use refuses.

The file is read as untrusted input: not a regular file (a FIFO would block every check), too big,
not TOML, fields of the wrong type: each reads as "nothing configured".
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from rollout_doctor.core.lines import open_regular
from rollout_doctor.formats.codex import home as codex_home

DEFAULT_PROVIDER = "openai"  # Codex's model_provider when config.toml names none
CONFIG_LIMIT = 1 << 20


def toml_loads(text: str) -> dict[str, Any]:
    """``text`` as TOML (tomllib, or tomli on Python 3.10); raises ValueError when it is not."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads(text)


@lru_cache(maxsize=16)
def _load(path: str, _stamp: tuple[int, int, int]) -> dict[str, Any]:
    try:
        fd = open_regular(Path(path))
    except OSError:
        return {}
    try:
        data = os.read(fd, CONFIG_LIMIT + 1)
    except OSError:
        return {}
    finally:
        os.close(fd)
    if len(data) > CONFIG_LIMIT:
        return {}
    try:
        return toml_loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}


def load(home: Path | None = None) -> dict[str, Any]:
    """The parsed ``config.toml`` of ``home`` (default ``$CODEX_HOME``), or {} when there is none to read."""
    return load_file((home or codex_home.configured_home()) / codex_home.CONFIG)


def load_file(path: Path) -> dict[str, Any]:
    """A TOML file of the Codex home read as untrusted input (config.toml, a profile's ``NAME.config.toml``):
    {} when there is none to read. Callers must not change the dict: it is shared until the file changes."""
    try:
        st = os.stat(path)
    except OSError:
        return {}
    return _load(str(path), (st.st_ino, st.st_size, st.st_mtime_ns))


def configured_provider(config: dict[str, Any]) -> str:
    """The ``model_provider`` Codex would use: the active profile's, else the top-level key, else openai.

    ``config`` is config.toml as read, or as a command line's ``-c`` and ``--profile`` made it
    (config_layers.resume_settings)."""
    provider = profile_setting(config, "model_provider")
    return DEFAULT_PROVIDER if provider is None else provider


def profile_setting(config: dict[str, Any], key: str) -> str | None:
    """A string setting as Codex resolves it: the active profile's (``profile = NAME`` selects
    ``[profiles.NAME]``), else the top-level key; None when neither sets it."""
    profiles, name = config.get("profiles"), config.get("profile")
    profile = profiles.get(name) if isinstance(profiles, dict) and isinstance(name, str) else None
    for table in (profile, config):
        if isinstance(table, dict) and isinstance(table.get(key), str):
            return table[key]
    return None


def wire_of(config: dict[str, Any], provider: str) -> str:
    providers = config.get("model_providers")
    table = providers.get(provider) if isinstance(providers, dict) else None
    return "chat" if isinstance(table, dict) and table.get("wire_api") == "chat" else "responses"


def session_wire(session_provider: str | None, home: Path | None = None, config: dict[str, Any] | None = None,
                 provider: str | None = None) -> str:
    """``chat`` when the provider Codex would resume the session with, or the one it was written with,
    speaks the Chat wire; else ``responses``. ``config`` and ``provider``: those of the command line that
    resumes it (config_layers.Settings), instead of config.toml as it is."""
    if config is None:
        config = load(home)
    providers = {provider or configured_provider(config)}
    if session_provider:
        providers.add(session_provider)
    return "chat" if any(wire_of(config, p) == "chat" for p in providers) else "responses"
