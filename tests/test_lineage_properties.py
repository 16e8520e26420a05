"""Properties of fixing threads that span files, over generated lineages: a parent, forks of it cut
anywhere (between any two lines), and forks of those forks, each file a random history with random
defects (tests/test_properties.py's items).

Whatever the mix, after ``fix`` of the home:
* every child's cut still names the same record: the records (tagged here) before and after it are the
  ones that were before and after it, less those the fix removed, and none crossed it;
* every cut lies at a line end of its parent, its ordinal is the one after the last record before it,
  and the child's own ordinals continue from there;
* fixing twice writes nothing, and ``undo`` of any file gives back every file of its transaction.
A refused transaction writes nothing at all.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from rollout_doctor.core.rules import Options
from rollout_doctor.formats.codex import fix_files
from rollout_doctor.store import restore
from tests.support.rollouts import Case, Renderer
from tests.support.threads import renumber
from tests.test_properties import consistent, item

ORDINAL = re.compile(rb'"ordinal":(\d+)')
TAG = re.compile(rb'"tag":(\d+)')
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class Tags:
    def __init__(self) -> None:
        self.next = 0

    def tag(self, line: bytes) -> bytes:
        """``line`` with a top-level ``"tag":n`` after its timestamp (an unknown field: kept by every fix)."""
        if not line.startswith(b'{"timestamp":"'):
            return line
        end = line.index(b'"', len(b'{"timestamp":"'))
        self.next += 1
        return line[: end + 1] + b',"tag":%d' % self.next + line[end + 1 :]


def render(items: list[tuple], tags: Tags) -> list[bytes]:
    data = Renderer(Case("generated", "lineage", consistent(items), generations=("paginated",)), "paginated").render()
    return [tags.tag(line) + b"\n" for line in data.rstrip(b"\n").split(b"\n")]


def as_child(lines: list[bytes], parent_id: str, parent: list[bytes], cut: int, own_id: str) -> list[bytes]:
    """``lines`` (a rendered session) made a fork of ``parent`` cut before its line ``cut``, as Codex
    writes one: a session_meta with history_base, ordinals continuing from the cut."""
    offset = sum(len(line) for line in parent[:cut])
    ordinal = max((int(m) for line in parent[:cut] for m in ORDINAL.findall(line)[:1]), default=-1) + 1
    meta = orjson.loads(lines[0])
    meta["payload"].update(id=own_id, forked_from_id=parent_id, forked_from_ordinal_exclusive=ordinal,
                           history_base={"thread_id": parent_id, "end_ordinal_exclusive": ordinal,
                                         "end_byte_offset": offset})
    return renumber([orjson.dumps(meta) + b"\n", *lines[1:]], ordinal)


lineages = st.fixed_dictionaries({
    "parent": st.lists(item, max_size=14),
    "children": st.lists(st.tuples(st.floats(0, 1), st.lists(item, max_size=8)), min_size=1, max_size=3),
    "grandchild": st.one_of(st.none(), st.tuples(st.floats(0, 1), st.lists(item, max_size=6))),
    "unsafe": st.booleans(),
})


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ROLLOUT_DOCTOR_HOME", str(tmp_path / "state"))
    return tmp_path


def write(folder: Path, name: str, lines: list[bytes]) -> Path:
    path = folder / f"rollout-2026-01-05T10-00-00-{name}.jsonl"
    path.write_bytes(b"".join(lines))
    return path


def tags_of(data: bytes) -> list[int]:
    return [int(m) for m in TAG.findall(data)]


def split_tags(parent: bytes, offset: int) -> tuple[set[int], set[int]]:
    cut = parent[:offset].rfind(b"\n") + 1 if offset <= len(parent) else len(parent)
    return set(tags_of(parent[:cut])), set(tags_of(parent[cut:]))


@SETTINGS
@given(lineage=lineages)
def test_fixing_a_lineage_keeps_every_cut_on_its_record(home: Path, lineage: dict) -> None:  # type: ignore[type-arg]
    folder = home / f"codex{len(list(home.iterdir()))}" / "sessions"
    folder.mkdir(parents=True)
    tags = Tags()
    parent_id = str(uuid.uuid4())
    parent_lines = render(lineage["parent"], tags)
    parent_lines[0] = parent_lines[0].replace(orjson.loads(parent_lines[0])["payload"]["id"].encode(), parent_id.encode())
    files = {parent_id: write(folder, parent_id, parent_lines)}
    parents: dict[str, str] = {}
    children: list[tuple[str, list[bytes]]] = []
    for fraction, items in lineage["children"]:
        child_id = str(uuid.uuid4())
        cut = 1 + round(fraction * (len(parent_lines) - 1))
        lines = as_child(render(items, tags), parent_id, parent_lines, cut, child_id)
        files[child_id] = write(folder, child_id, lines)
        parents[child_id] = parent_id
        children.append((child_id, lines))
    if lineage["grandchild"] is not None:
        fraction, items = lineage["grandchild"]
        child_id, child_lines = children[0]
        grandchild = str(uuid.uuid4())
        cut = 1 + round(fraction * (len(child_lines) - 1))
        files[grandchild] = write(folder, grandchild, as_child(render(items, tags), child_id, child_lines, cut, grandchild))
        parents[grandchild] = child_id
    before = {key: path.read_bytes() for key, path in files.items()}
    options = Options(unsafe_fixes=lineage["unsafe"])

    reports = list(fix_files(list(files.values()), options, want_diff=False))
    after = {key: path.read_bytes() for key, path in files.items()}
    event("refused" if any(r.refused for r in reports) else
          f"{sum(1 for r in reports if r.written)} file(s) written, "
          f"{sum(1 for c in parents if after[c] != before[c])} child(ren) rewritten")
    assert not [r.error for r in reports if r.error], [r.error for r in reports]
    # Every file was asked about, so no child can be refused a new problem, and a fix that would carry a
    # line across a cut is held back before it is planned (fixer._crosses): nothing is refused.
    assert not [r.refused for r in reports if r.refused]

    for child, parent in parents.items():
        old_base = orjson.loads(before[child].split(b"\n", 1)[0])["payload"]["history_base"]
        new_base = orjson.loads(after[child].split(b"\n", 1)[0])["payload"]["history_base"]
        removed = set(tags_of(before[parent])) - set(tags_of(after[parent]))
        old_in, old_out = split_tags(before[parent], old_base["end_byte_offset"])
        new_in, new_out = split_tags(after[parent], new_base["end_byte_offset"])
        assert new_in == old_in - removed and new_out == old_out - removed, "no record crossed the cut"
        data = after[parent]
        assert new_base["end_byte_offset"] <= len(data) and data[new_base["end_byte_offset"] - 1] == 0x0A
        last = [int(m) for line in data[: new_base["end_byte_offset"]].split(b"\n") for m in ORDINAL.findall(line)[:1]]
        assert new_base["end_ordinal_exclusive"] == last[-1] + 1
        own = [int(m) for line in after[child].split(b"\n") for m in ORDINAL.findall(line)[:1]]
        assert own[0] == new_base["end_ordinal_exclusive"] and own == sorted(set(own)), "numbering continues"

    again = list(fix_files(list(files.values()), options, want_diff=False))
    assert not any(r.written for r in again), "fixing twice is fixing once"
    written = [r.path for r in reports if r.written]
    if written:
        restore(written[0])
        assert {key: path.read_bytes() for key, path in files.items()} == before, "undo restores the transaction"
