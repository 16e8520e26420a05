"""The rule cases, one entry each: what the rollout holds, and for which generations and options.

Expectations live beside the rendered inputs in fixtures/cases (see tests/cases.py).
"""

from __future__ import annotations

import orjson

from tests.cases import (
    Case,
    assistant,
    bom,
    call,
    compacted,
    context,
    developer,
    event,
    glued,
    meta_field,
    meta_here,
    no_meta,
    ordinal,
    out,
    out_raw,
    raw,
    reasoning,
    rollback,
    torn,
    user,
)

ENVELOPES = ("envelope", "paginated")
CHAT = {"target": "chat"}
UNSAFE = {"unsafe_fixes": True}


def item_line(payload: dict[str, object]) -> bytes:
    """A response_item line as 0.77.0 writes it, for shapes the builders cannot make (envelope cases
    only)."""
    return orjson.dumps({"timestamp": "2026-01-05T10:00:30.000Z", "type": "response_item",
                         "payload": payload})


# Tool output shapes, as Codex 0.77.0, 0.169.0 and 0.171.0 read them (docs/codex-facts.md, "Tool output
# shapes"; tests/test_e2e_shapes.py runs them through the real releases).
RAN = {"type": "input_text", "text": "ran"}
ENCRYPTED = [RAN, {"type": "encrypted_content", "encrypted_content": "gAAAAB"}]
AUDIO = [RAN, {"type": "input_audio", "audio_url": "data:audio/wav;base64,UklGRg=="}]
OUTPUT_TEXT = [RAN, {"type": "output_text", "text": "hi", "annotations": []}]
BAD_DETAIL = [{"type": "input_image", "image_url": "data:image/png;base64,iVBO", "detail": "ultra"}]
LONG_ID = "call_" + "x" * 59  # 64 characters: the most the API takes

TURN = [context(), user("run it"), event("task_started")]

CASES: list[Case] = [
    # clean sessions: nothing to report, nothing written
    Case("clean", "one-call", [*TURN, reasoning(), call("call_A"), event("exec_command_end", call_id="call_A"),
                               out("call_A"), assistant("done"), event("task_complete")],
         about="a whole turn as Codex writes it"),
    Case("clean", "parallel-calls", [*TURN, call("call_A"), call("call_B"), out("call_A"), out("call_B"),
                                     assistant("done")],
         about="parallel calls are fine on the Responses wire"),
    Case("clean", "all-call-kinds", [*TURN, call("call_F"), out("call_F"), call("call_C", "custom"),
                                     out("call_C", "Success.", "custom"), call("call_L", "local_shell"),
                                     out("call_L"), call("call_T", "tool_search"), out("call_T", kind="tool_search"),
                                     assistant("done")]),
    Case("clean", "rolled-back-orphan", [*TURN, call("call_A"), out("call_A"), user("again"), call("call_B"),
                                         event("turn_aborted"), rollback(1), user("something else"),
                                         assistant("ok")],
         generations=ENVELOPES, about="the orphan call sits in a rolled-back turn, which Codex never sends"),
    Case("clean", "compacted-away-orphan", [*TURN, call("call_A"), user("next"),
                                            compacted([user("run it"), assistant("summary of work")]),
                                            user("go on"), assistant("ok")],
         generations=ENVELOPES, about="the orphan call is replaced by the compaction's history"),
    Case("clean", "newer-content-items", [meta_field(cli_version="0.171.0"), *TURN, call("call_A"),
                                          out_raw("call_A", ENCRYPTED), call("call_B"), out_raw("call_B", AUDIO),
                                          assistant("done")],
         generations=ENVELOPES,
         about="encrypted_content and input_audio in a file 0.171.0 wrote: it reads them"),
    Case("clean", "newer-content-item-with-id", [
        *TURN, call("call_A"),
        raw(item_line({"type": "function_call_output", "id": "fco_0001", "call_id": "call_A", "output": ENCRYPTED})),
        assistant("done")],
         generations=("envelope",),
         about="a 0.77.0 file continued by a newer release: its output carries an id"),
    Case("clean", "tool-search-outputs-codex-keeps", [
        *TURN, raw(item_line({"type": "tool_search_output", "call_id": None, "status": "completed",
                              "execution": "client", "tools": []})),
        raw(item_line({"type": "tool_search_output", "status": "completed", "execution": "server",
                       "tools": []})),
        assistant("done")],
         generations=("envelope",),
         about="Codex keeps a tool search output with no call_id, and a server-side one"),
    Case("clean", "chat-sequential", [*TURN, call("call_A"), out("call_A"), call("call_B"), reasoning(),
                                      out("call_B"), assistant("done")],
         options=CHAT, about="reasoning between a call and its output makes no chat message"),

    # orphan-call
    Case("orphan-call", "interrupted-stream", [*TURN, reasoning(), call("call_A")],
         about="#16255: the stream closed after the call, before response.completed"),
    Case("orphan-call", "esc-then-new-turn", [*TURN, call("call_A"), event("turn_aborted"),
                                              user("<turn_aborted>\nThe user interrupted.\n</turn_aborted>"),
                                              user("try again"), assistant("ok")]),
    Case("orphan-call", "parallel-one-missing", [*TURN, call("call_A"), call("call_B"), out("call_B"),
                                                 assistant("done")]),
    Case("orphan-call", "every-call-kind", [*TURN, call("call_F"), call("call_C", "custom"),
                                            call("call_L", "local_shell"), call("call_T", "tool_search"),
                                            assistant("done")]),
    Case("orphan-call", "inside-compaction", [*TURN, compacted([user("run it"), call("call_A"), user("more")]),
                                              user("go on"), assistant("ok")],
         generations=ENVELOPES, about="the compacted history itself must keep the contract"),

    # orphan-output
    Case("orphan-output", "no-call-anywhere", [*TURN, out("call_X"), assistant("done")]),
    Case("orphan-output", "call-compacted-away", [*TURN, call("call_A"), compacted([user("run it")]),
                                                  out("call_A"), assistant("done")],
         generations=ENVELOPES, about="the call went with the compaction, its late output did not"),

    Case("orphan-output", "empty-call-id", [*TURN, call("call_A"), out("call_A"), out(""), assistant("done")],
         about="Codex reads an empty call_id and drops the output as an orphan"),
    Case("orphan-output", "no-call-id", [
        *TURN, call("call_A"), out("call_A"),
        raw(item_line({"type": "function_call_output", "output": "no id"})),
        raw(item_line({"type": "custom_tool_call_output", "call_id": None, "output": "null id"})),
        raw(item_line({"type": "function_call_output", "output": {"content": "no id, old shape"}})),
        raw(item_line({"type": "tool_search_output", "call_id": "", "status": "completed", "execution": "client",
                       "tools": []})),
        assistant("done")],
         generations=("envelope",),
         about="0.77.0 skips these lines; 0.169.0 and 0.171.0 send the function output without a call_id"),

    # misplaced-output
    Case("misplaced-output", "output-first", [*TURN, out("call_A"), call("call_A"), assistant("done")]),
    Case("misplaced-output", "parallel-outputs-first", [*TURN, out("call_A"), out("call_B"), call("call_A"),
                                                        call("call_B"), assistant("done")]),

    # interleaved-message
    Case("interleaved-message", "user-during-call", [*TURN, call("call_A"), user("also do this"),
                                                     out("call_A"), assistant("done")]),
    Case("interleaved-message", "parallel-race", [*TURN, call("call_A"), call("call_B"), out("call_A"),
                                                  context(), user("stop"), out("call_B"), assistant("done")],
         about="a new turn's context and message land between parallel outputs"),
    Case("interleaved-message", "developer-and-user", [*TURN, call("call_A"), developer("permissions changed"),
                                                       user("go"), out("call_A")]),
    Case("interleaved-message", "chat-target", [*TURN, call("call_A"), user("and then"), out("call_A"),
                                                assistant("done")],
         options=CHAT),

    # duplicate-call-id
    Case("duplicate-call-id", "replayed-pair", [*TURN, call("call_A"), out("call_A"), call("call_A"),
                                                out("call_A"), assistant("done")],
         generations=("legacy", "envelope"), about="the same call and output written twice"),
    Case("duplicate-call-id", "reused-id", [*TURN, call("call_0", cmd="ls"), out("call_0", "a b"),
                                            user("next"), call("call_0", cmd="pwd"), out("call_0", "/work"),
                                            assistant("done")],
         about="providers that number calls per turn"),

    Case("duplicate-call-id", "reused-64-character-id",
         [*TURN, call(LONG_ID, cmd="ls"), out(LONG_ID, "a b"), user("next"), call(LONG_ID, cmd="pwd"),
          out(LONG_ID, "/work"), assistant("done")],
         about="the new id keeps within the API's 64 characters"),

    # duplicate-output
    Case("duplicate-output", "exact-repeat", [*TURN, call("call_A"), out("call_A", "same"),
                                              out("call_A", "same"), assistant("done")],
         generations=("legacy", "envelope")),
    Case("duplicate-output", "different-held-back", [*TURN, call("call_A"), out("call_A", "first"),
                                                     out("call_A", "second"), assistant("done")]),
    Case("duplicate-output", "different-unsafe", [*TURN, call("call_A"), out("call_A", "first"),
                                                  out("call_A", "second"), assistant("done")],
         options=UNSAFE),

    # bad-output-shape
    Case("bad-output-shape", "object-output-held-back",
         [*TURN, call("call_A"), out_raw("call_A", {"content": "hi", "success": True}), assistant("done")]),
    Case("bad-output-shape", "object-output-unsafe",
         [*TURN, call("call_A"), out_raw("call_A", {"content": "hi", "success": True}), assistant("done")],
         options=UNSAFE),

    Case("bad-output-shape", "output-text-unsafe",
         [*TURN, call("call_A"), out_raw("call_A", OUTPUT_TEXT), assistant("done")], options=UNSAFE,
         about="every release drops an output_text item; the fix makes it input_text and keeps the rest"),
    Case("bad-output-shape", "missing-text-unsafe",
         [*TURN, call("call_A"), out_raw("call_A", [{"type": "input_text"}]), assistant("done")],
         generations=("envelope",), options=UNSAFE, about="an item without its field: only a string will do"),
    Case("bad-output-shape", "image-detail-unsafe",
         [*TURN, call("call_A"), out_raw("call_A", BAD_DETAIL), assistant("done")],
         generations=ENVELOPES, options=UNSAFE,
         about="0.169.0 and 0.171.0 drop an unknown detail; 0.77.0 ignores it"),
    Case("bad-output-shape", "newer-items-old-writer-held-back",
         [*TURN, call("call_A"), out_raw("call_A", ENCRYPTED), call("call_B"), out_raw("call_B", AUDIO),
          assistant("done")],
         generations=("legacy", "envelope"),
         about="written by 0.77.0 (or a release unknown), which drops them"),
    Case("bad-output-shape", "newer-items-old-writer-unsafe",
         [*TURN, call("call_A"), out_raw("call_A", ENCRYPTED), call("call_B"), out_raw("call_B", AUDIO),
          assistant("done")],
         generations=("legacy", "envelope"), options=UNSAFE),
    Case("bad-output-shape", "newer-items-chat-unsafe",
         [*TURN, call("call_A"), out_raw("call_A", ENCRYPTED), assistant("done")],
         generations=("paginated",), options={**CHAT, **UNSAFE},
         about="only releases older than 0.169.0 speak the Chat wire, whoever wrote the file"),
    Case("bad-output-shape", "custom-list-old-writer-unsafe",
         [*TURN, call("call_C", "custom"),
          raw(item_line({"type": "custom_tool_call_output", "call_id": "call_C",
                         "output": [{"type": "input_text", "text": "Success."},
                                    {"type": "input_text", "text": "A a.txt"}]})),
          assistant("done")],
         generations=("envelope",), options=UNSAFE,
         about="0.77.0 reads a custom tool's output only as a string"),

    # chat-adjacency
    Case("chat-adjacency", "parallel-calls", [*TURN, call("call_A"), call("call_B"), out("call_A"),
                                              out("call_B"), assistant("done")],
         options=CHAT, about="#8479: 0.77.0 on the Chat wire writes this and refuses it on every resume"),
    Case("chat-adjacency", "assistant-between", [*TURN, call("call_A"), assistant("working on it"),
                                                 out("call_A"), assistant("done")],
         options=CHAT),

    # invalid-line
    Case("invalid-line", "torn-last-line", [*TURN, call("call_A"), out("call_A"), torn(assistant("done"))]),
    Case("invalid-line", "garbage-and-nul", [*TURN, raw(b"this is not json"), call("call_A"),
                                             raw(b"\x00\x00\x00\x00"), out("call_A"), raw(b"[1, 2, 3]"),
                                             assistant("done")]),
    Case("invalid-line", "glued-record", [*TURN, call("call_A"), glued(event("token_count"), out("call_A")),
                                          assistant("done")],
         generations=ENVELOPES, about="#24425: a record appended onto a torn line"),
    Case("invalid-line", "byte-order-mark", [bom(), *TURN, assistant("hi")],
         generations=("envelope",), about="#28139: a BOM before session_meta"),
    Case("invalid-line", "invalid-utf8", [*TURN, raw(b'{"timestamp":"x","type":"event_msg","payload":{"t":"\xff"}}'),
                                          assistant("done")],
         generations=("envelope",)),

    Case("invalid-line", "missing-timestamp-held-back",
         [*TURN, call("call_A"), raw(b'{"type":"response_item","payload":{"type":"function_call_output",'
                                     b'"call_id":"call_A","output":"hi"}}'), assistant("done")],
         generations=("envelope",), about="Codex skips a record with no timestamp, so the call looks unanswered"),
    Case("invalid-line", "missing-timestamp-unsafe",
         [*TURN, call("call_A"), raw(b'{"type":"response_item","payload":{"type":"function_call_output",'
                                     b'"call_id":"call_A","output":"hi"}}'), assistant("done")],
         generations=("envelope",), options=UNSAFE),

    # session-meta
    Case("session-meta", "not-first", [event("task_started"), meta_here(), context(), user("hi"),
                                       assistant("hello")],
         generations=ENVELOPES),
    Case("session-meta", "missing", [no_meta(), context(), user("hi"), assistant("hello")],
         generations=ENVELOPES),
    Case("session-meta", "id-mismatch", [meta_field(id="00000000-0000-4000-8000-000000000000"), *TURN,
                                         assistant("hello")],
         generations=ENVELOPES),
    Case("session-meta", "bad-history-mode", [meta_field(history_mode="scrolling"), *TURN, assistant("hi")],
         generations=("envelope",)),

    # ordinal-order (paginated only)
    Case("ordinal-order", "duplicate-after-resume", [*TURN, assistant("done"), event("token_count"),
                                                     ordinal(5, event("thread_settings_applied")),
                                                     event("task_started"), user("more"), assistant("ok")],
         generations=("paginated",), about="#41566/#44432: thread_settings_applied reuses an ordinal"),
    Case("ordinal-order", "final-record-missing-ordinal", [*TURN, assistant("done"),
                                                           ordinal(None, event("task_complete"))],
         generations=("paginated",), about="#45150"),
    Case("ordinal-order", "gap", [*TURN, assistant("done"), ordinal(40, event("task_complete")),
                                  user("more")],
         generations=("paginated",)),
    Case("ordinal-order", "insert-renumbers", [*TURN, call("call_A"), event("token_count"), user("again"),
                                               assistant("ok")],
         generations=("paginated",), about="an inserted output gets its place in the ordinal sequence"),

    # history-base (paginated only; forks read with their parents are in tests/test_threads.py)
    Case("history-base", "missing-parent", [meta_field(history_base={
        "thread_id": "01a1fe9f-0000-7000-8000-00000000dead", "end_ordinal_exclusive": 29, "end_byte_offset": 23453},
        forked_from_id="01a1fe9f-0000-7000-8000-00000000dead"), *TURN, assistant("done")],
         generations=("paginated",), about="a fork whose parent is in neither sessions/ nor archived_sessions/"),
    Case("history-base", "malformed", [meta_field(history_base={"thread_id": 7}), *TURN, assistant("done")],
         generations=("paginated",), about="Codex cannot read a history_base without its three fields"),

    # schema (opt-in)
    Case("schema", "wrong-types", [*TURN, raw(b'{"timestamp":"2026-01-05T10:00:09.000Z","type":"response_item",'
                                              b'"payload":{"type":"function_call","name":"shell",'
                                              b'"arguments":{"command":["ls"]},"call_id":"call_A"}}'),
                                   out("call_A"), assistant("done")],
         generations=("envelope",), options={"select": ["ALL"]}),
]
