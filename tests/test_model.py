"""The line-indexed model, the byte-exact writer, the JSON span scanner and the history rules."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollout_doctor.core import jsonspan
from rollout_doctor.core.fixes import Piece
from rollout_doctor.core.rewrite import write_pieces
from rollout_doctor.formats.codex.history import drop_last_user_turns, effective_history
from rollout_doctor.formats.codex.home import thread_id_from_name
from rollout_doctor.formats.codex.records import Item, ItemKind, LineKind, rare
from rollout_doctor.formats.codex.rollout import read_rollout

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"


def identity_write(path: Path) -> bytes:
    with read_rollout(path) as model:
        out = io.BytesIO()
        write_pieces(model, [Piece(n) for n in range(len(model))], out)
        return out.getvalue()


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=600) | st.lists(
    st.sampled_from([b'{"type":"session_meta","payload":{}}', b"\r\n", b"\n", b"\x00", b"\xef\xbb\xbf", b"\xff\xfe",
                     b'{"timestamp":"t","type":"response_item","payload":{"type":"message"}}', b"[1]", b"{"]),
    max_size=30).map(b"".join))
def test_untouched_model_writes_back_the_same_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("bytes") / "rollout.jsonl"
    path.write_bytes(data)
    assert identity_write(path) == data


def test_real_rollouts_round_trip_and_index_every_line() -> None:
    for path in REAL.glob("*/rollout-*.jsonl"):
        data = path.read_bytes()
        assert identity_write(path) == data
        with read_rollout(path) as model:
            assert len(model) == data.count(b"\n")
            assert model.meta is not None and model.meta.id == thread_id_from_name(path)


def test_compressed_rollout_reads_like_the_plain_one(tmp_path: Path) -> None:
    import zstandard

    source = next((REAL / "0.169.0-responses-parallel-calls").glob("rollout-*.jsonl"))
    packed = tmp_path / (source.name + ".zst")
    packed.write_bytes(zstandard.ZstdCompressor().compress(source.read_bytes()))
    with read_rollout(packed) as model, read_rollout(source) as plain:
        assert list(model.kinds) == list(plain.kinds)
        assert model.generation == "paginated"
    assert identity_write(packed) == source.read_bytes()


def test_crlf_bom_and_missing_newline_are_kept(tmp_path: Path) -> None:
    meta = b'{"timestamp":"t","type":"session_meta","payload":{"id":"x"}}'
    data = b"\xef\xbb\xbf" + meta + b"\r\n" + b'{"timestamp":"t","type":"event_msg","payload":{"type":"x"}}'
    path = tmp_path / "r.jsonl"
    path.write_bytes(data)
    with read_rollout(path) as model:
        assert model.has_bom and model.kind(0) is LineKind.SESSION_META
        assert model.terminator(0) == b"\r\n" and model.terminator(1) == b""
        assert model.content(0) == meta
    assert identity_write(path) == data


@pytest.mark.parametrize(("name", "thread"), [
    pytest.param("rollout-2026-01-05T10-00-00-01a1fe9f-a2fa-7091-8dab-b019fa49b280.jsonl",
                 "01a1fe9f-a2fa-7091-8dab-b019fa49b280", id="plain"),
    pytest.param("rollout-2026-01-05T10-00-00-01A1FE9F-A2FA-7091-8DAB-B019FA49B280.jsonl.zst",
                 "01a1fe9f-a2fa-7091-8dab-b019fa49b280", id="compressed-upper-case"),
    pytest.param("rollout-2026-01-05T10-00-00-01a1fe9f-a2fa-7091-8dab-b019fa49b280_"
                 "11111111-2222-3333-4444-555555555555.jsonl", "01a1fe9f-a2fa-7091-8dab-b019fa49b280", id="reverted"),
    pytest.param("session.jsonl", None, id="not-a-rollout-name"),
])
def test_thread_id_from_name(name: str, thread: str | None) -> None:
    assert thread_id_from_name(Path(name)) == thread


# --- jsonspan -------------------------------------------------------------------------------------

SPAN_CASES = [
    pytest.param(b'{"a":1,"ordinal":7,"b":2}', ("ordinal",), b"7", id="top-level"),
    pytest.param(b'{ "ordinal" : 12 , "x":{"ordinal":3}}', ("ordinal",), b"12", id="whitespace-and-nested-twin"),
    pytest.param(b'{"payload":{"s":"a\\"}{,","call_id":"c1"}}', ("payload", "call_id"), b'"c1"', id="escapes"),
    pytest.param(b'{"p":{"h":[{"call_id":"x"},{"call_id":"y"}]}}', ("p", "h", 1, "call_id"), b'"y"', id="array-index"),
    pytest.param(b'{"\\u006frdinal":5}', ("ordinal",), b"5", id="escaped-key"),
    pytest.param(b'{"a":1}', ("ordinal",), None, id="absent"),
    pytest.param(b'{"a":[1,2]}', ("a", 5), None, id="index-out-of-range"),
]


@pytest.mark.parametrize(("data", "path", "value"), SPAN_CASES)
def test_span(data: bytes, path: tuple, value: bytes | None) -> None:
    where = jsonspan.span(data, path)
    assert (data[where[0]:where[1]] if where else None) == value


def test_replace_and_insert_keep_every_other_byte() -> None:
    line = b'{"timestamp":"t","type":"x","payload":{"n":1.50,"u":"\\u00e9"}}'
    replaced = jsonspan.replace(line, ("payload", "n"), b"2")
    assert replaced == b'{"timestamp":"t","type":"x","payload":{"n":2,"u":"\\u00e9"}}'
    inserted = jsonspan.insert_member(line, "ordinal", b"4", after="timestamp")
    assert inserted == b'{"timestamp":"t","ordinal":4,"type":"x","payload":{"n":1.50,"u":"\\u00e9"}}'
    assert jsonspan.insert_member(b"{}", "ordinal", b"0") == b'{"ordinal":0}'


# --- history --------------------------------------------------------------------------------------


def message(role: str, text: str, contextual: bool = False) -> Item:
    return Item(0, None, "message", ItemKind.MESSAGE, role=role, preview=text, rare=rare(contextual=contextual))


def test_rollback_cuts_at_the_nth_last_real_user_turn_keeping_context() -> None:
    items = [message("user", "<environment_context>…", contextual=True), message("user", "one"),
             message("assistant", "a"), message("user", "two"), message("assistant", "b")]
    assert drop_last_user_turns(items, 1) == items[:3]
    assert drop_last_user_turns(items, 2) == items[:1]
    assert drop_last_user_turns(items, 9) == items[:1], "never past the first real turn"
    assert drop_last_user_turns(items, 0) == items


def test_compaction_without_replacement_keeps_only_real_user_messages(tmp_path: Path) -> None:
    lines = [
        {"timestamp": "t", "type": "session_meta", "payload": {"id": "x"}},
        {"timestamp": "t", "type": "response_item", "payload": {"type": "message", "role": "user",
                                                                 "content": [{"type": "input_text", "text": "hi"}]}},
        {"timestamp": "t", "type": "response_item", "payload": {"type": "function_call", "name": "shell",
                                                                 "arguments": "{}", "call_id": "c"}},
        {"timestamp": "t", "type": "compacted", "payload": {"message": "summary"}},
    ]
    path = tmp_path / "r.jsonl"
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    with read_rollout(path) as model:
        history = effective_history(model)
    assert [(i.type, i.role) for i in history] == [("message", "user")]
