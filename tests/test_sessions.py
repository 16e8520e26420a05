"""Finding a session's rollout the way Codex does: by id, by thread name, and `--last`.

The `codex`-marked tests ask the real binaries which file `codex exec resume --last` opens and check
that `sessions.find_last` names the same one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import zstandard

from rollout_doctor.formats.codex.session_files import configured_provider
from rollout_doctor.formats.codex.sessions import (
    SessionNotFound,
    find_by_id,
    find_by_name_or_id,
    find_last,
    resolve,
    thread_id_for_name,
)
from tests.support.codex_run import CodexHome, real_fixture, session_id_of
from tests.support.loopback import LoopbackServer, say
from tests.support.scenarios import NEW, OLD, PAGINATED

pytest_plugins = ["tests.support.fixtures"]

SINGLE = real_fixture(f"{NEW}-responses-single-call")
SEQUENTIAL = real_fixture(f"{NEW}-responses-sequential-calls")
PARALLEL = real_fixture(f"{NEW}-responses-parallel-calls")
OLD_SINGLE = real_fixture(f"{OLD}-responses-single-call")


def with_cwd(source: Path, cwd: Path) -> bytes:
    """The rollout with its session_meta and turn_context cwd set to ``cwd`` (as if recorded there)."""
    out = []
    for raw in source.read_bytes().splitlines():
        line = json.loads(raw)
        if line["type"] in ("session_meta", "turn_context"):
            line["payload"]["cwd"] = str(cwd)
        out.append(json.dumps(line, separators=(",", ":")).encode())
    return b"\n".join(out) + b"\n"


def install(home: Path, source: Path, *, cwd: Path | None = None, mtime: float | None = None,
            folder: str = "sessions/2026/11/21", name: str | None = None) -> Path:
    target = home / folder / (name or source.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(with_cwd(source, cwd) if cwd else source.read_bytes())
    if mtime is not None:
        os.utime(target, (mtime, mtime))
    return target


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "config.toml").write_text('model_provider = "judge"\n')
    return tmp_path


# --- by id ---------------------------------------------------------------------------------------


def test_find_by_id_walks_the_dated_folders(home: Path) -> None:
    path = install(home, SINGLE, folder="sessions/2026/11/21")
    install(home, SEQUENTIAL, folder="sessions/2026/10/01")
    found = find_by_id(session_id_of(SINGLE).upper(), home)
    assert found.path == path and found.thread_id == session_id_of(SINGLE) and not found.archived


def test_find_by_id_falls_back_to_archived_sessions(home: Path) -> None:
    path = install(home, SINGLE, folder="archived_sessions")
    found = find_by_id(session_id_of(SINGLE), home)
    assert found.path == path and found.archived


def test_a_plain_rollout_wins_over_its_compressed_copy(home: Path) -> None:
    plain = install(home, SINGLE)
    zst = plain.with_name(plain.name + ".zst")
    zst.write_bytes(zstandard.ZstdCompressor().compress(plain.read_bytes()))
    os.utime(zst, (plain.stat().st_mtime + 60,) * 2)
    assert find_by_id(session_id_of(SINGLE), home).path == plain
    plain.unlink()
    assert find_by_id(session_id_of(SINGLE), home).path == zst


def test_find_by_id_refuses_what_is_not_a_uuid_or_not_there(home: Path) -> None:
    with pytest.raises(SessionNotFound, match="not a session id"):
        find_by_id("not-a-uuid", home)
    with pytest.raises(SessionNotFound, match="no rollout for session"):
        find_by_id(session_id_of(SINGLE), home)


# --- by name -------------------------------------------------------------------------------------


def write_index(home: Path, *entries: dict | str) -> None:
    lines = [e if isinstance(e, str) else json.dumps(e) for e in entries]
    (home / "session_index.jsonl").write_text("\n".join(lines) + "\n")


def test_the_newest_index_line_with_the_exact_name_wins(home: Path) -> None:
    a, b = session_id_of(SINGLE), session_id_of(SEQUENTIAL)
    write_index(home, {"id": a, "thread_name": "fix ci", "updated_at": "2026-11-21T10:00:00Z"},
                "{torn", "", {"id": b, "thread_name": "fix ci", "updated_at": "2026-11-21T11:00:00Z"},
                {"id": a, "thread_name": "Fix CI", "updated_at": "2026-11-21T12:00:00Z"})
    assert thread_id_for_name("fix ci", home) == b
    assert thread_id_for_name("Fix CI", home) == a
    assert thread_id_for_name("fix", home) is None
    assert thread_id_for_name("  ", home) is None


def test_a_name_resolves_to_its_rollout_and_a_uuid_is_taken_as_an_id(home: Path) -> None:
    path = install(home, SEQUENTIAL)
    write_index(home, {"id": session_id_of(SEQUENTIAL), "thread_name": "nightly", "updated_at": "x"})
    assert find_by_name_or_id("nightly", home).path == path
    assert find_by_name_or_id(session_id_of(SEQUENTIAL), home).path == path
    with pytest.raises(SessionNotFound, match="no session named 'weekly'"):
        find_by_name_or_id("weekly", home)


# --- --last --------------------------------------------------------------------------------------


def test_last_takes_the_newest_mtime_in_the_current_folder(home: Path, tmp_path: Path) -> None:
    here, elsewhere = tmp_path / "here", tmp_path / "elsewhere"
    here.mkdir(), elsewhere.mkdir()
    older = install(home, SEQUENTIAL, cwd=here, mtime=1_800_000_000)
    newer = install(home, SINGLE, cwd=here, mtime=1_800_000_100)  # its name holds the older time
    other = install(home, PARALLEL, cwd=elsewhere, mtime=1_800_000_200)
    install(home, OLD_SINGLE, cwd=here, mtime=1_800_000_300, folder="archived_sessions")
    assert find_last(home, here).path == newer
    assert find_last(home, None).path == other, "--all: every folder"
    os.utime(older, (1_800_000_150,) * 2)
    assert find_last(home, here).path == older
    assert find_last(home, here, order="created").path == max(older, newer, key=lambda p: p.name)


def test_last_matches_the_folder_of_the_latest_turn_context(home: Path, tmp_path: Path) -> None:
    here = tmp_path / "here"
    here.mkdir()
    moved = install(home, SINGLE, mtime=1_800_000_000)  # session_meta.cwd is the recording folder
    lines = moved.read_bytes().splitlines(keepends=True)
    turn = next(i for i, line in enumerate(lines) if b'"type":"turn_context"' in line)
    line = json.loads(lines[turn])
    line["payload"]["cwd"] = str(here)
    lines[turn] = json.dumps(line, separators=(",", ":")).encode() + b"\n"
    moved.write_bytes(b"".join(lines))
    assert find_last(home, here).path == moved


def test_last_keeps_only_the_configured_provider(home: Path, tmp_path: Path) -> None:
    here = tmp_path / "here"
    here.mkdir()
    judge = install(home, SEQUENTIAL, cwd=here, mtime=1_800_000_000)
    assert configured_provider(home) == "judge"
    (home / "config.toml").write_text('profile = "work"\n[profiles.work]\nmodel_provider = "openai"\n')
    assert configured_provider(home) == "openai"
    with pytest.raises(SessionNotFound, match="provider 'openai'"):
        find_last(home, here)
    (home / "config.toml").unlink()
    no_provider = install(home, SINGLE, cwd=here, mtime=1_700_000_000)
    lines = no_provider.read_bytes().splitlines(keepends=True)
    meta = json.loads(lines[0])
    del meta["payload"]["model_provider"]
    lines[0] = json.dumps(meta).encode() + b"\n"
    no_provider.write_bytes(b"".join(lines))
    os.utime(no_provider, (1_700_000_000,) * 2)
    assert find_last(home, here).path == no_provider, "no provider in the meta counts as the default"
    assert find_last(home, here, provider="judge").path == judge


def test_last_reads_compressed_rollouts_and_skips_files_without_a_meta(home: Path, tmp_path: Path) -> None:
    here = tmp_path / "here"
    here.mkdir()
    zst = home / "sessions/2026/11/21" / (SINGLE.name + ".zst")
    zst.parent.mkdir(parents=True)
    zst.write_bytes(zstandard.ZstdCompressor().compress(with_cwd(SINGLE, here)))
    os.utime(zst, (1_800_000_000,) * 2)
    headless = install(home, SEQUENTIAL, cwd=here, mtime=1_800_000_100)
    headless.write_bytes(b"\n".join(headless.read_bytes().splitlines()[1:]) + b"\n")
    os.utime(headless, (1_800_000_100,) * 2)
    assert find_last(home, here, provider="judge").path == zst


# --- --last with Codex's state database (0.169.0, 0.171.0; docs/codex-facts.md "How `--last` chooses") --


def state_db(home: Path, *rows: dict, status: str = "complete") -> Path:
    """``state_5.sqlite`` with the columns --last reads, in WAL mode as Codex keeps it. Each row names
    ``path`` (a Path) and may set ``updated_at_ms``, ``cwd``, ``model_provider`` and ``archived``."""
    import sqlite3

    path = home / "state_5.sqlite"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE threads (id TEXT PRIMARY KEY, rollout_path TEXT NOT NULL, "
               "updated_at INTEGER NOT NULL, updated_at_ms INTEGER, cwd TEXT NOT NULL, "
               "model_provider TEXT NOT NULL, archived INTEGER NOT NULL DEFAULT 0)")
    db.execute("CREATE TABLE backfill_state (id INTEGER PRIMARY KEY CHECK (id = 1), status TEXT NOT NULL)")
    db.execute("INSERT INTO backfill_state VALUES (1, ?)", (status,))
    for row in rows:
        ms = row.get("updated_at_ms")
        db.execute("INSERT INTO threads VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (row.get("id") or session_id_of(row["path"]), str(row["path"]), (ms or 0) // 1000, ms,
                    str(row.get("cwd", "/nowhere")), row.get("model_provider", "judge"),
                    row.get("archived", 0)))
    db.commit()
    db.close()
    return path


def set_lines(path: Path, kind: str, **fields: object) -> None:
    """Set ``fields`` in the payload of every ``kind`` line (``thread_settings_applied`` edits its
    ``thread_settings``), keeping the file's mtime."""
    st = path.stat()
    out = []
    for raw in path.read_bytes().splitlines():
        line = json.loads(raw)
        if line["type"] == kind:
            line["payload"].update(fields)
        elif kind == "thread_settings_applied" and line["payload"].get("type") == kind:
            line["payload"]["thread_settings"].update(fields)
        out.append(json.dumps(line, separators=(",", ":")).encode())
    path.write_bytes(b"\n".join(out) + b"\n")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.fixture
def two_here(home: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    """The working folder and two sessions recorded there: ``old`` (older mtime) and ``new``."""
    here = tmp_path / "here"
    here.mkdir()
    old = install(home, SEQUENTIAL, cwd=here, mtime=1_800_000_000)
    new = install(home, SINGLE, cwd=here, mtime=1_800_000_100)
    return here, old, new


def test_with_the_state_db_updated_at_ms_orders_and_the_mtime_does_not(home: Path, two_here) -> None:
    here, old, new = two_here
    os.utime(old, (1_800_000_500,) * 2)  # touched by hand: the newest mtime, an old session all the same
    assert find_last(home, here).path == old, "no database: the mtime rules"
    state_db(home, {"path": old, "updated_at_ms": 1_800_000_000_000, "cwd": here},
             {"path": new, "updated_at_ms": 1_800_000_100_000, "cwd": here})
    assert find_last(home, here).path == new
    assert find_last(home, None).path == new


def test_the_state_db_breaks_ties_by_the_higher_id_and_puts_null_last(home: Path, two_here) -> None:
    here, old, new = two_here
    high, low = sorted((old, new), key=lambda p: session_id_of(p), reverse=True)
    state_db(home, {"path": low, "updated_at_ms": 1_800_000_000_000, "cwd": here},
             {"path": high, "updated_at_ms": 1_800_000_000_000, "cwd": here})
    assert find_last(home, here).path == high
    (home / "state_5.sqlite").unlink()
    state_db(home, {"path": new, "updated_at_ms": None, "cwd": here},
             {"path": old, "updated_at_ms": 1_700_000_000_000, "cwd": here})
    assert find_last(home, here).path == old


def test_the_state_db_rows_are_filtered_as_codex_filters_them(home: Path, two_here, tmp_path: Path) -> None:
    """Archived rows, rows of another provider (the database's column, not the file's) and rows whose
    file is gone are skipped; a rollout the database does not list is no candidate while a row matches."""
    here, old, new = two_here
    unlisted = install(home, PARALLEL, cwd=here, mtime=1_800_000_900)
    gone = home / "sessions/2026/11/21" / OLD_SINGLE.name
    rows = [{"path": old, "updated_at_ms": 1_800_000_000_000, "cwd": here},
            {"path": new, "updated_at_ms": 1_800_000_100_000, "cwd": here, "archived": 1},
            {"path": gone, "updated_at_ms": 1_800_000_200_000, "cwd": here}]
    state_db(home, *rows)
    assert find_last(home, here).path == old
    (home / "state_5.sqlite").unlink()
    state_db(home, rows[0], {**rows[1], "archived": 0, "model_provider": "openai"})
    assert find_last(home, here).path == old
    set_lines(old, "session_meta", model_provider="openai")  # the file's own provider is not asked
    assert find_last(home, here).path == old
    assert unlisted.exists()


def test_with_no_match_in_the_state_db_the_files_are_walked(home: Path, two_here, tmp_path: Path) -> None:
    here, old, new = two_here
    elsewhere = tmp_path / "elsewhere"
    state_db(home, {"path": old, "updated_at_ms": 1_800_000_000_000, "cwd": elsewhere, "archived": 1})
    assert find_last(home, here).path == new, "a rollout copied in, never listed: found by the walk"
    set_lines(new, "session_meta", model_provider="openai")  # the walk reads session_meta's provider
    assert find_last(home, here).path == old


def test_an_unfinished_backfill_means_codex_rebuilds_from_the_files(home: Path, two_here) -> None:
    here, old, new = two_here
    os.utime(old, (1_800_000_500,) * 2)
    state_db(home, {"path": new, "updated_at_ms": 1_800_000_100_000, "cwd": here}, status="running")
    assert find_last(home, here).path == old
    (home / "state_5.sqlite").write_bytes(b"not a database")
    assert find_last(home, here).path == old


def test_the_latest_turn_context_decides_the_folder(home: Path, two_here, tmp_path: Path) -> None:
    """A session recorded here and continued elsewhere (`codex resume ID` from another folder) is no
    longer this folder's, with or without the database; with no turn_context the recorded folder counts."""
    here, old, new = two_here
    set_lines(new, "turn_context", cwd=str(tmp_path / "elsewhere"))
    assert find_last(home, here).path == old
    state_db(home, {"path": old, "updated_at_ms": 1_800_000_000_000, "cwd": here},
             {"path": new, "updated_at_ms": 1_800_000_100_000, "cwd": here})
    assert find_last(home, here).path == old
    lines = [raw for raw in new.read_bytes().splitlines(keepends=True) if b'"type":"turn_context"' not in raw]
    new.write_bytes(b"".join(lines))
    assert find_last(home, here).path == new, "no turn_context: the database's cwd"
    (home / "state_5.sqlite").unlink()
    set_lines(new, "session_meta", cwd=str(tmp_path / "elsewhere"))
    set_lines(new, "thread_settings_applied", cwd=str(here))
    os.utime(new, (1_800_000_100,) * 2)
    assert find_last(home, here).path == new, "no database, no turn_context: the latest thread settings' cwd"


def test_without_the_state_db_the_provider_of_the_latest_thread_settings_counts(home: Path, two_here) -> None:
    here, old, new = two_here
    set_lines(new, "thread_settings_applied", model_provider_id="openai")
    assert find_last(home, here).path == old
    set_lines(old, "session_meta", model_provider="openai")  # thread settings win over session_meta
    assert find_last(home, here).path == old


def test_without_the_state_db_a_later_session_less_than_a_second_behind_counts_as_newer(
    home: Path, two_here
) -> None:
    """Codex's backfill: taken in the order the sessions were created, one whose mtime is less than a
    second behind an earlier-created one's gets that time plus 1 ms."""
    here, old, new = two_here
    assert new.name < old.name, "`new` (single-call) was created first"
    t = 1_800_000_000_000_000_000
    os.utime(new, ns=(t, t))
    os.utime(old, ns=(t - 999_000_000, t - 999_000_000))
    assert find_last(home, here).path == old
    os.utime(old, ns=(t - 1_000_000_000, t - 1_000_000_000))
    assert find_last(home, here).path == new
    state_db(home, {"path": new, "updated_at_ms": t // 10**6, "cwd": here},
             {"path": old, "updated_at_ms": t // 10**6 - 999, "cwd": here})
    assert find_last(home, here).path == new, "the database's own times are taken as they are"


def test_the_state_db_is_only_read(home: Path, two_here) -> None:
    import hashlib
    import sqlite3

    here, old, new = two_here
    db = state_db(home, {"path": old, "updated_at_ms": 1_800_000_000_000, "cwd": here},
                  {"path": new, "updated_at_ms": 1_800_000_100_000, "cwd": here})
    writer = sqlite3.connect(db)  # a Codex in the middle of a write keeps its WAL open
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE threads SET updated_at_ms = 1 WHERE rollout_path = ?", (str(new),))

    def state() -> dict[str, tuple[str, int]]:
        return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
                for p in home.glob("state_5.sqlite*") if not p.name.endswith("-shm")}

    before = state()
    assert find_last(home, here).path == new, "the committed rows, not the open transaction's"
    assert state() == before
    writer.rollback()
    writer.close()


def test_looking_for_the_last_session_leaves_the_access_times_alone(home: Path, two_here) -> None:
    here, old, new = two_here
    for path in (old, new):
        os.utime(path, ns=(1_000_000_000 * 10**9, path.stat().st_mtime_ns))
    path = new
    path.read_bytes()
    if path.stat().st_atime_ns == 1_000_000_000 * 10**9:
        pytest.skip("reads do not update access times here")
    os.utime(path, ns=(1_000_000_000 * 10**9, path.stat().st_mtime_ns))
    assert find_last(home, here).path == new
    assert [p.stat().st_atime_ns for p in (old, new)] == [1_000_000_000 * 10**9] * 2


def test_resolve_needs_a_session_or_last(home: Path) -> None:
    with pytest.raises(SessionNotFound, match="give a session id"):
        resolve(None, last=False, home=home)


# --- against the real binaries -------------------------------------------------------------------

codex = pytest.mark.codex


def resumed_by_codex(home: CodexHome, server: LoopbackServer, release: str, *args: str) -> Path:
    """Run `codex exec resume <args> go`; the rollout it opened is the one that grew."""
    before = {p: p.stat().st_size for p in home.sessions.rglob("rollout-*.jsonl")}
    server.push([say("resumed")])
    run = home.run(release, "exec", "--skip-git-repo-check", "-s", "danger-full-access", "resume", *args, "go")
    assert run.returncode == 0, run.describe()
    grown = [p for p, size in before.items() if p.stat().st_size > size]
    assert len(grown) == 1, (grown, run.describe())
    return grown[0]


def three_sessions(home: CodexHome, elsewhere: Path, sources: tuple[Path, ...]) -> tuple[Path, Path, Path]:
    """Install three rollouts: a and b in the working folder, c elsewhere. Their names sort a < b < c;
    their mtimes say b is older than a and c is the newest."""
    elsewhere.mkdir()
    a, b, c = (install(home.codex_home, s, cwd=cwd, mtime=t)
               for s, cwd, t in zip(sorted(sources, key=lambda p: p.name), (home.workdir, home.workdir, elsewhere),
                                    (1_800_000_200, 1_800_000_100, 1_800_000_300)))
    return a, b, c


@codex
@pytest.mark.parametrize("release", PAGINATED)
def test_last_picks_what_real_paginated_codex_resumes(
    release: str, codex_home: CodexHome, loopback: LoopbackServer, tmp_path: Path
) -> None:
    """0.169.0 and 0.171.0: newest mtime first, only the current folder unless --all."""
    own = tuple(real_fixture(f"{release}-responses-{name}")
                for name in ("single-call", "sequential-calls", "parallel-calls"))
    a, _b, c = three_sessions(codex_home, tmp_path / "elsewhere", own)
    assert find_last(codex_home.codex_home, None).path == c
    assert resumed_by_codex(codex_home, loopback, release, "--last", "--all") == c
    assert find_last(codex_home.codex_home, codex_home.workdir).path == a
    assert resumed_by_codex(codex_home, loopback, release, "--last") == a


@codex
def test_last_picks_what_real_codex_0770_resumes(
    codex_home: CodexHome, loopback: LoopbackServer, tmp_path: Path
) -> None:
    """0.77.0: the newest time in the file name, any folder (it has no --all: there is no folder filter)."""
    codex_home.configure(loopback.base_url, model_catalog=False)
    old = (OLD_SINGLE, real_fixture(f"{OLD}-responses-parallel-calls"), real_fixture(f"{OLD}-chat-parallel-calls"))
    _a, _b, c = three_sessions(codex_home, tmp_path / "elsewhere", old)
    os.utime(c, (1_700_000_000,) * 2)  # the oldest mtime: only the name can make it the pick
    assert find_last(codex_home.codex_home, None, order="created").path == c
    assert resumed_by_codex(codex_home, loopback, OLD, "--last") == c


def test_the_latest_turn_context_is_found_from_the_end_of_a_long_session(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rollout_doctor.formats.codex import session_files

    monkeypatch.setattr(session_files, "TAIL_BYTES", 64)  # windows smaller than one line: every growth step runs
    here = tmp_path / "here"
    here.mkdir()
    path = install(home, SINGLE, mtime=1_800_000_000)
    lines = path.read_bytes().splitlines(keepends=True)
    turn = next(i for i, line in enumerate(lines) if b'"type":"turn_context"' in line)
    line = json.loads(lines[turn])
    line["payload"]["cwd"] = str(here)
    lines[turn] = json.dumps(line, separators=(",", ":")).encode() + b"\n"
    path.write_bytes(b"".join(lines) + b"x" * 300)  # a torn tail after it
    os.utime(path, (1_800_000_000,) * 2)
    assert session_files.latest_of_file(path, session_files.latest_turn_cwd) == str(here)
    assert find_last(home, here).path == path
    line["payload"]["cwd"] = "/elsewhere"
    path.write_bytes(b"".join(lines[:turn]) + json.dumps(line, separators=(",", ":")).encode() + b"\n")
    assert session_files.latest_of_file(path, session_files.latest_turn_cwd) == "/elsewhere"
