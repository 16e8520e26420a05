"""The settings a ``codex`` command line runs with: config.toml under its ``-c key=value`` overrides,
``--profile NAME`` and ``--oss``; above all, the ``model_provider`` it resumes with.

Seen with the real binaries (``codex exec`` recording a session, its ``session_meta.model_provider``
read back; docs/codex-facts.md, "Which session a resume opens"):

* ``-c key=value``: the key is split on the first ``=`` and trimmed, dots make nested tables; the value
  is read as a TOML value, else taken as a string with surrounding quotes dropped
  (``codex-rs/utils/cli/src/config_override.rs``). ``-c model_provider=x``, ``-c model_provider="x"``
  and ``-c ' model_provider = "x" '`` all select ``x`` (0.77.0, 0.171.0).
* 0.169.0 and 0.171.0: ``--profile NAME`` layers ``$CODEX_HOME/NAME.config.toml`` over config.toml, and
  ``-c`` overrides both. A legacy ``profile = "NAME"`` key or ``[profiles.NAME]`` table makes them
  refuse to start.
* 0.77.0: profiles are ``[profiles.NAME]`` tables, chosen by ``--profile`` or the ``profile`` key (after
  the ``-c`` overrides); the profile's ``model_provider`` beats the top-level one *and* ``-c
  model_provider=``; ``codex -p NAME exec`` (the option before ``exec``) is ignored. ``NAME.config.toml``
  means nothing to it.

So the shape of the home says which era applies: a ``[profiles.NAME]`` table for the named profile is
the 0.77.0 rule, a ``NAME.config.toml`` beside config.toml the 2026 one. ``--oss`` selects the local
provider: ``--local-provider``, else the profile's or the top-level ``oss_provider``
(``resolve_oss_provider``, core/src/config), else ``oss`` (0.77.0's help: "Equivalent to -c
model_provider=oss").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rollout_doctor.formats.codex import config as codex_config
from rollout_doctor.formats.codex.codex_args import ResumeRequest

PROFILE_FILE = "{name}.config.toml"  # 0.169.0 and 0.171.0: `-p NAME` layers $CODEX_HOME/NAME.config.toml
OSS_FALLBACK = "oss"


class Settings:
    """What Codex runs with: the configuration as it reads it, and the provider it resumes with."""

    __slots__ = ("config", "profile_file", "provider")

    def __init__(self, config: dict[str, Any], provider: str, profile_file: Path | None = None) -> None:
        self.config = config
        self.provider = provider
        self.profile_file = profile_file  # the 2026 profile layered over config.toml, if any


def parse_override(raw: str) -> tuple[list[str], Any] | None:
    """``key=value`` as Codex reads it: the dotted key's parts and the value; None when it is no override
    (Codex refuses those at start-up)."""
    key, sep, text = raw.partition("=")
    key, text = key.strip(), text.strip()
    if not sep or not key:
        return None
    try:
        value = codex_config.toml_loads(f"_x_ = {text}")["_x_"]
    except (ValueError, KeyError):
        value = text.strip("\"'")
    return key.split("."), value


def apply_override(tree: dict[str, Any], parts: list[str], value: Any) -> None:
    """Set ``parts`` in ``tree`` to ``value``, making (or replacing with) tables on the way, as Codex's
    ``apply_single_override`` does. Each table on the way is copied first: the ones config.py read are
    shared."""
    table = tree
    for part in parts[:-1]:
        child = table.get(part)
        child = table[part] = dict(child) if isinstance(child, dict) else {}
        table = child
    table[parts[-1]] = value


def layered(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """``layer`` over ``base``: tables merge key by key, anything else in ``layer`` replaces."""
    merged = dict(base)
    for key, value in layer.items():
        below = merged.get(key)
        merged[key] = layered(below, value) if isinstance(below, dict) and isinstance(value, dict) else value
    return merged


def _legacy_table(config: dict[str, Any], name: str) -> bool:
    profiles = config.get("profiles")
    return isinstance(profiles, dict) and isinstance(profiles.get(name), dict)


def _oss_provider(config: dict[str, Any], request: ResumeRequest) -> str:
    if request.local_provider:
        return request.local_provider
    provider = codex_config.profile_setting(config, "oss_provider")
    return OSS_FALLBACK if provider is None else provider


def resume_settings(request: ResumeRequest, home: Path) -> Settings:
    """The configuration and provider ``request``'s command line runs with, in the Codex home ``home``."""
    base = {} if request.ignore_user_config else codex_config.load(home)
    tree = dict(base)  # changed only through copies (apply_override, layered): config.py shares what it read
    profile_file = None
    name = request.profile
    if name and not _legacy_table(base, name):
        candidate = home / PROFILE_FILE.format(name=name)
        layer = codex_config.load_file(candidate)
        if layer:
            tree, profile_file = layered(tree, layer), candidate
    for raw in request.config:
        override = parse_override(raw)
        if override is not None:
            apply_override(tree, *override)
    if name and _legacy_table(tree, name) and not (request.exec_mode and request.profile_before_exec):
        tree["profile"] = name  # 0.77.0: --profile chooses the table, over the `profile` key
    provider = _oss_provider(tree, request) if request.oss else codex_config.configured_provider(tree)
    return Settings(tree, provider, profile_file)
