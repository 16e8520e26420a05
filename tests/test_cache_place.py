"""The cache folder found without platformdirs on Linux (core/cache_place.py) is platformdirs' answer."""

from __future__ import annotations

import sys

import pytest
from platformdirs import user_cache_dir

from rollout_doctor.core import cache_place

CASES = {
    "xdg unset": {"HOME": "/home/ada"},
    "xdg absolute": {"HOME": "/home/ada", "XDG_CACHE_HOME": "/var/tmp/ada-cache"},
    "xdg relative": {"HOME": "/home/ada", "XDG_CACHE_HOME": "cache"},
    "xdg empty": {"HOME": "/home/ada", "XDG_CACHE_HOME": ""},
    "home with a trailing slash": {"HOME": "/home/ada/"},
    "home is the root": {"HOME": "/"},
    "home relative": {"HOME": "ada"},
    "xdg with a trailing slash": {"HOME": "/home/ada", "XDG_CACHE_HOME": "/srv/cache/"},
}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the shortcut is taken on Linux only")
@pytest.mark.parametrize("env", CASES.values(), ids=CASES.keys())
def test_the_linux_cache_folder_is_platformdirs_answer(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name in ("ROLLOUT_DOCTOR_CACHE_DIR", "ROLLOUT_DOCTOR_NO_CACHE", "XDG_CACHE_HOME", "HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cache_place.folder() == user_cache_dir("rollout-doctor", appauthor=False)


def test_the_overrides_come_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLOUT_DOCTOR_CACHE_DIR", "/srv/rd-cache")
    monkeypatch.delenv("ROLLOUT_DOCTOR_NO_CACHE", raising=False)
    assert cache_place.folder() == "/srv/rd-cache"
    monkeypatch.setenv("ROLLOUT_DOCTOR_NO_CACHE", "1")
    assert cache_place.folder() is None
