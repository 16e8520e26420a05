"""Deterministic, realistic Codex sessions for the benchmark (never committed: it writes into a folder).

Line shapes come from the real rollouts in ``fixtures/real`` (Codex 0.169.0: paginated, ``ordinal`` and
``metadata`` on every line; Codex 0.77.0: the plain envelope): each record is a fixture line, parsed, with
its ids, timestamps and texts replaced. What the fixtures lack is built after Codex's own types and noted
where it is. Sizes follow what heavy sessions hold: tool outputs log-normal up to ~1 MB (0.169.0 writes
each one twice, in the ``item_completed`` event and in the ``function_call_output``), reasoning items with
a base64 ``encrypted_content`` of a few KB, many small event lines.

A few defects are planted, each at a known line, so the benchmark can check that ``check`` finds exactly
those (rule and line) and nothing else.
"""

from __future__ import annotations

import base64
import math
import random
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "real"
MAX_OUTPUT = 1 << 20

# What a heavy user's tree holds: mostly 0.169.0-era paginated sessions, some older envelope ones.
PAGINATED, ENVELOPE = "paginated", "envelope"

# Defects the generator can plant; each maps to the rule that must report it.
DEFECT_RULES = {
    "orphan-call": "orphan-call",
    "orphan-output": "orphan-output",
    "misplaced-output": "misplaced-output",
    "duplicate-output": "duplicate-output",
    "interleaved-message": "interleaved-message",
    "bad-output-shape": "bad-output-shape",
    "torn-line": "invalid-line",
    "nul-line": "invalid-line",
    "torn-tail": "invalid-line",
    "duplicate-ordinal": "ordinal-order",
}


@dataclass(frozen=True)
class Sizes:
    """How big a session's records run (log-normal medians and spreads, in bytes) and how many tool
    rounds a turn has on average. The default is a heavy user's; ``HOME`` is what Codex 0.169.0 writes
    in a typical home: short outputs and blobs, many rounds, so many small lines per turn."""

    output: tuple[float, float, int] = (2000, 1.6, MAX_OUTPUT)
    blob: tuple[float, float, int] = (3000, 0.8, 64 << 10)
    patch: tuple[float, float, int] = (1500, 1.0, 200 << 10)
    rounds: float = 5


HEAVY = Sizes()
HOME = Sizes(output=(500, 1.2, 64 << 10), blob=(1200, 0.6, 16 << 10), patch=(700, 0.9, 32 << 10), rounds=9)


@dataclass(frozen=True)
class Planted:
    path: str  # relative to the tree's root
    rule: str
    line: int  # 1-based, as the JSON report gives it


def uuid7_like(rng: random.Random) -> str:
    """A random id shaped like the UUIDv7s Codex 0.169.0 gives threads and items (3.11's uuid lacks v7)."""
    value = rng.getrandbits(128) & ~(0xF000 << 64) & ~(0xC000 << 48)
    return str(uuid.UUID(int=value | (0x7000 << 64) | (0x8000 << 48)))


def _shape_key(obj: dict[str, Any]) -> tuple[Any, ...]:
    payload = obj.get("payload")
    inner = payload.get("type") if isinstance(payload, dict) else None
    item = payload.get("item") if isinstance(payload, dict) else None
    return obj.get("type"), inner, item.get("type") if isinstance(item, dict) else None


def load_templates(release: str) -> dict[tuple[Any, ...], bytes]:
    """The first line of each shape in the fixtures recorded with ``release``, as raw JSON."""
    out: dict[tuple[Any, ...], bytes] = {}
    for path in sorted(FIXTURES.glob(f"{release}-*/rollout-*.jsonl")):
        for raw in path.read_bytes().splitlines():
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                out.setdefault(_shape_key(obj), raw)
    if not out:
        raise SystemExit(f"no fixtures for Codex {release} under {FIXTURES}")
    return out


WORDS = ["error", "warning", "info", "debug", "test", "passed", "failed", "running", "build", "cargo", "npm", "pytest", "src", "lib", "main", "mod", "util", "config", "handler", "request", "response", "client", "server", "session", "token", "model", "thread", "rollout", "index", "value", "key", "return", "self", "None", "True", "False", "async", "await", "fn", "pub", "struct", "impl", "let", "mut", "match", "Ok", "Err", "Some", "use", "crate", "super"]
UNICODE = ("é", "ü", "→", "“quoted”", "…", "✓", "✗", "日本語", "€", "🙂")


def _text_pool(rng: random.Random, size: int) -> str:
    """Terminal-like text: paths, code, log lines, some ANSI colours and non-ASCII, as tools print."""
    lines: list[str] = []
    total = 0
    while total < size:
        n = rng.random()
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 14)))
        if n < 0.25:
            line = f"src/{rng.choice(WORDS)}/{rng.choice(WORDS)}_{rng.randint(1, 99)}.rs:{rng.randint(1, 999)}:{rng.randint(1, 80)}: {words}"
        elif n < 0.45:
            line = "    " * rng.randint(0, 3) + f"{rng.choice(WORDS)}({rng.choice(WORDS)}, \"{words}\")"
        elif n < 0.55:
            line = f"\x1b[3{rng.randint(1, 7)}m{rng.choice(WORDS)}\x1b[0m {words} \\ {rng.randint(0, 10**6)}"
        elif n < 0.60:
            line = f"{words} {rng.choice(UNICODE)} {rng.choice(WORDS)}"
        elif n < 0.65:
            line = "\t" + words
        else:
            line = words
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


class Texts:
    """Slices of one pre-made pool: realistic content at generation speeds of hundreds of MB/s."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pool = _text_pool(rng, 3 << 20)
        self.b64 = base64.b64encode(rng.randbytes(3 << 20)).decode()

    def text(self, size: int) -> str:
        size = max(1, min(size, len(self.pool) - 1))
        start = self.rng.randrange(0, len(self.pool) - size)
        return self.pool[start : start + size]

    def blob(self, size: int) -> str:
        size = max(4, min(size, len(self.b64) - 8)) // 4 * 4
        start = self.rng.randrange(0, (len(self.b64) - size) // 4) * 4
        return "gAAAAAB" + self.b64[start : start + size]

    def lognormal(self, median: float, sigma: float, cap: int) -> int:
        return int(min(cap, max(1, self.rng.lognormvariate(math.log(median), sigma))))


class RolloutFile:
    """Writes one rollout line by line, numbering ordinals and lines as it goes."""

    def __init__(self, path: Path, generation: str) -> None:
        self.path, self.generation = path, generation
        self.lines = self.size = self.ordinal = 0
        self.clock = 1_795_273_237.0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._out = open(path, "wb", buffering=4 << 20)

    def timestamp(self) -> str:
        self.clock += 0.0371
        whole = int(self.clock)
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{int((self.clock - whole) * 1000):03d}Z"

    def record(self, obj: dict[str, Any], repeat_ordinal: bool = False) -> int:
        """Write one record; returns its 1-based line number."""
        obj["timestamp"] = self.timestamp()
        if self.generation == PAGINATED:
            if repeat_ordinal:
                self.ordinal -= 1
            obj["ordinal"] = self.ordinal
            self.ordinal += 1
        return self.raw(orjson.dumps(obj) + b"\n")

    def raw(self, data: bytes) -> int:
        self._out.write(data)
        self.size += len(data)
        self.lines += 1
        return self.lines

    def close(self) -> None:
        self._out.close()


def _ordered(template: bytes, **changes: Any) -> dict[str, Any]:
    """A fresh copy of a fixture record, top-level keys in Codex's order (timestamp, ordinal, type, ...)."""
    obj = orjson.loads(template)
    out: dict[str, Any] = {"timestamp": obj.pop("timestamp", ""), "ordinal": 0}
    out.update(obj)
    out.update(changes)
    return out


class Session:
    """One Codex session: turns of user input, reasoning, tool calls and answers, as a release writes them."""

    def __init__(self, out: RolloutFile, texts: Texts, templates: dict[tuple[Any, ...], bytes], rng: random.Random,
                 thread_id: str) -> None:
        self.out, self.texts, self.t, self.rng, self.thread_id = out, texts, templates, rng, thread_id
        self.paginated = out.generation == PAGINATED
        self.sizes = HEAVY
        self.sequence = 0
        self.planted: list[tuple[str, int]] = []  # (rule, 1-based line)

    # -- ids ------------------------------------------------------------------------------------------
    def _uuid(self) -> str:
        return uuid7_like(self.rng)

    def _hex(self, n: int = 48) -> str:
        return f"{self.rng.getrandbits(n * 4):0{n}x}"

    def call_id(self) -> str:
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        return "call_" + "".join(self.rng.choice(alphabet) for _ in range(24))

    # -- records --------------------------------------------------------------------------------------
    def build(self, key: tuple[Any, ...], payload_changes: dict[str, Any] | None = None) -> dict[str, Any]:
        obj = _ordered(self.t[key])
        if not self.paginated:
            del obj["ordinal"]
        if payload_changes:
            obj["payload"].update(payload_changes)
        return obj

    def write(self, obj: dict[str, Any], repeat_ordinal: bool = False) -> int:
        if isinstance(obj.get("metadata"), dict):
            self.sequence += 1
            obj["metadata"]["history_sequence"] = self.sequence
        return self.out.record(obj, repeat_ordinal)

    def event(self, kind: str, item: str | None = None, repeat_ordinal: bool = False, **changes: Any) -> int:
        return self.write(self.build(("event_msg", kind, item), changes), repeat_ordinal)

    def meta(self) -> None:
        obj = self.build(("session_meta", None, None), {"id": self.thread_id})
        if "session_id" in obj["payload"]:
            obj["payload"]["session_id"] = self.thread_id
        self.write(obj)

    def message(self, role: str, text: str) -> int:
        part = "output_text" if role == "assistant" else "input_text"
        changes: dict[str, Any] = {"role": role, "content": [{"type": part, "text": text}]}
        if self.paginated:
            changes["id"] = "msg_" + self._hex()
        return self.write(self.build(("response_item", "message", None), changes))

    def reasoning(self) -> int:
        # Neither recorded fixture holds a reasoning item (the loopback model sends none); this is
        # ResponseItem::Reasoning as both releases serialise it (codex-rs/protocol models.rs).
        payload: dict[str, Any] = {"type": "reasoning"}
        if self.paginated:
            payload["id"] = "rs_" + self._hex()
        payload["summary"] = [{"type": "summary_text", "text": "**" + self.texts.text(self.rng.randint(20, 300)) + "**"}]
        payload["content"] = None
        payload["encrypted_content"] = self.texts.blob(self.texts.lognormal(*self.sizes.blob))
        obj: dict[str, Any] = {"timestamp": "", "ordinal": 0, "type": "response_item", "payload": payload}
        if self.paginated:
            obj["metadata"] = {"history_sequence": 0, "sampled_through_sequence": self.sequence, "client_authored": False}
        else:
            del obj["ordinal"]
        return self.write(obj)

    def call(self, custom: bool) -> dict[str, Any]:
        call_id = self.call_id()
        if custom:
            patch = "".join(f"+{line}\n" for line in
                            self.texts.text(self.texts.lognormal(*self.sizes.patch)).splitlines())
            changes = {"call_id": call_id, "id": "ctc_" + self._hex(),
                       "input": "*** Begin Patch\n*** Update File: src/lib.rs\n" + patch + "*** End Patch\n"}
            return self.build(("response_item", "custom_tool_call", None), changes)
        cmd = " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(1, 6)))
        if self.paginated:
            changes = {"call_id": call_id, "arguments": orjson.dumps({"cmd": cmd}).decode(), "id": "fc_" + self._hex()}
        else:
            changes = {"call_id": call_id, "arguments": orjson.dumps({"command": ["bash", "-lc", cmd]}).decode()}
        return self.build(("response_item", "function_call", None), changes)

    def output_text(self) -> str:
        return self.texts.text(self.texts.lognormal(*self.sizes.output))

    def output(self, call: dict[str, Any], text: str, call_id: str | None = None, shape: Any = None) -> dict[str, Any]:
        custom = call["payload"]["type"] == "custom_tool_call"
        key = ("response_item", "custom_tool_call_output" if custom else "function_call_output", None)
        if self.paginated:
            wrapped: Any = (f"Chunk ID: {self._hex(6)}\nWall time: 0.0{self.rng.randint(1, 999)} seconds\n"
                            f"Process exited with code 0\nOriginal token count: {len(text) // 4}\nOutput:\n{text}")
        else:
            # 0.77.0 shell output: a JSON document inside the string, so escaped twice in the file.
            wrapped = orjson.dumps({"output": text, "metadata": {"exit_code": 0, "duration_seconds": 0.1}}).decode()
        changes: dict[str, Any] = {"call_id": call_id or call["payload"]["call_id"],
                                   "output": wrapped if shape is None else shape}
        if self.paginated:
            changes["id"] = ("ctco_" if custom else "fco_") + self._uuid()
        return self.build(key, changes)

    def command_event(self, call: dict[str, Any], text: str) -> None:
        # 0.169.0 also records what the command printed, in full, in an item_completed event.
        if not self.paginated or call["payload"]["type"] != "function_call":
            return
        obj = self.build(("event_msg", "item_completed", "CommandExecution"))
        item = obj["payload"]["item"]
        item["id"] = call["payload"]["call_id"]
        item["aggregated_output"] = text
        item["command"] = ["/bin/bash", "-lc", orjson.loads(call["payload"]["arguments"])["cmd"]]
        self.write(obj)

    def token_events(self) -> None:
        if self.paginated:
            self.write(self.build(("token_usage_record", None, None)))
        self.event("token_count")

    def torn(self, fraction: float, newline: bool) -> int:
        """Part of a record, as a crash mid-write leaves it; it takes no ordinal. Codex puts a newline
        after torn bytes before its next append."""
        whole = orjson.dumps(self.build(("event_msg", "token_count", None)))
        return self.out.raw(whole[: int(len(whole) * fraction)] + (b"\n" if newline else b""))

    # -- turns ----------------------------------------------------------------------------------------
    def first_turn_context(self) -> None:
        if self.paginated:
            self.event("task_started")
            self.message("developer", "<permissions instructions>" + self.texts.text(2500) + "</permissions instructions>")
            self.message("user", "<environment_context>\n  <cwd>/home/me/src/project</cwd>\n  <shell>bash</shell>\n"
                                 "</environment_context>")
            self.write(self.build(("world_state", None, None)))
        else:
            self.message("user", "# AGENTS.md instructions for /home/me/src/project\n\n<INSTRUCTIONS>\n"
                         + self.texts.text(3000) + "\n</INSTRUCTIONS>")
            self.message("user", "<environment_context>\n  <cwd>/home/me/src/project</cwd>\n</environment_context>")

    def turn(self, defect: str | None, first: bool) -> None:
        if first:
            self.first_turn_context()
        elif self.paginated:
            self.event("task_started")
        prompt = self.texts.text(self.texts.lognormal(200, 1.2, 20_000))
        self.write(self.build(("turn_context", None, None)))
        self.message("user", prompt)
        if self.paginated:
            self.event("item_completed", "UserMessage")
        else:
            self.event("user_message", message=prompt[:200])
        rounds = max(1, int(self.rng.expovariate(1 / self.sizes.rounds)))
        defect_round = self.rng.randrange(rounds) if defect else -1
        for n in range(rounds):
            self.tool_round(defect if n == defect_round else None)
        if self.paginated:
            self.event("item_completed", "AgentMessage")
        else:
            self.event("agent_message", message="done")
        self.message("assistant", self.texts.text(self.texts.lognormal(600, 1.0, 30_000)))
        self.token_events()
        if self.paginated:
            self.event("task_complete")

    def tool_round(self, defect: str | None) -> None:
        self.reasoning()
        parallel = 2 if self.rng.random() < 0.15 else 1
        calls = [self.call(custom=self.paginated and self.rng.random() < 0.12) for _ in range(parallel)]
        texts = [self.output_text() for _ in calls]
        if defect == "misplaced-output":
            # Parallel calls racing the writer: an output lands before its call.
            self.planted.append(("misplaced-output", self.write(self.output(calls[0], texts[0]))))
            self.write(calls[0])
            self.token_events()
            return
        call_lines = [self.write(call) for call in calls]
        self.token_events()
        for n, call in enumerate(calls):
            planting = defect if n == 0 else None
            if planting == "orphan-call":  # the turn was interrupted before the tool finished
                self.planted.append(("orphan-call", call_lines[0]))
                continue
            if planting == "interleaved-message":
                self.planted.append(("interleaved-message", self.message("user", "also: " + self.texts.text(80))))
            elif planting == "torn-line":
                self.planted.append(("invalid-line", self.torn(0.6, newline=True)))
            elif planting == "nul-line":
                self.planted.append(("invalid-line", self.out.raw(b"\x00" * 512 + b"\n")))
            self.command_event(call, texts[n])
            shape = {"content": texts[n][:2000], "success": True} if planting == "bad-output-shape" else None
            output = self.output(call, texts[n], shape=shape)
            line = self.write(output)
            if shape is not None:
                self.planted.append(("bad-output-shape", line))
            if planting == "duplicate-output":  # the same output recorded twice
                self.planted.append(("duplicate-output", self.write(output)))
            elif planting == "orphan-output":
                stray = self.output(call, "output of a call that is not in this file\n", call_id=self.call_id())
                self.planted.append(("orphan-output", self.write(stray)))
            elif planting == "duplicate-ordinal" and self.paginated:
                self.planted.append(("ordinal-order", self.event("token_count", repeat_ordinal=True)))
        self.token_events()


def generate_rollout(path: Path, generation: str, target: int, defects: list[str], seed: int,
                     templates: dict[str, dict[tuple[Any, ...], bytes]], texts: Texts,
                     sizes: Sizes = HEAVY) -> tuple[Path, list[tuple[str, int]]]:
    """Write one rollout of about ``target`` bytes; returns its path and the planted (rule, line) pairs."""
    rng = random.Random(seed)
    texts.rng = rng
    thread_id = uuid7_like(rng)
    out = RolloutFile(path.with_name(path.name.replace("THREAD", thread_id)), generation)
    release = "0.169.0" if generation == PAGINATED else "0.77.0"
    session = Session(out, texts, templates[release], rng, thread_id)
    session.sizes = sizes
    session.meta()
    body = [d for d in defects if d != "torn-tail"]
    # Spread the defects over the file: each goes into the turn at its share of the target size.
    marks = sorted((target * (n + 1) // (len(body) + 1), d) for n, d in enumerate(body))
    first = True
    while out.size < target or marks:
        defect = marks.pop(0)[1] if marks and out.size >= marks[0][0] else None
        if out.size >= target and marks and defect is None:
            defect = marks.pop(0)[1]
        session.turn(defect, first)
        first = False
    if "torn-tail" in defects:
        # A crash while appending: the file ends inside a record, with no newline.
        session.planted.append(("invalid-line", session.torn(0.7, newline=False)))
    out.close()
    return out.path, session.planted


@dataclass
class Tree:
    root: Path
    files: list[Path]
    planted: list[Planted]
    size: int


def _session_path(root: Path, n: int, rng: random.Random) -> Path:
    day = 1 + n % 28
    return root / "sessions" / "2026" / f"{1 + n % 12:02d}" / f"{day:02d}" / (
        f"rollout-2026-{1 + n % 12:02d}-{day:02d}T{rng.randint(0, 23):02d}-{rng.randint(0, 59):02d}-"
        f"{rng.randint(0, 59):02d}-THREAD.jsonl")


def generate_tree(root: Path, seed: int, total: int, count: int, defect_plan: dict[int, list[str]] | None = None,
                  sizes: list[int] | None = None, envelope_share: float = 0.25) -> Tree:
    """``count`` rollouts of about ``total`` bytes in all under ``root/sessions``; sizes log-normal unless given."""
    rng = random.Random(seed)
    templates = {"0.169.0": load_templates("0.169.0"), "0.77.0": load_templates("0.77.0")}
    texts = Texts(random.Random(seed ^ 0x5EED))
    if sizes is None:
        weights = [rng.lognormvariate(0, 1.0) for _ in range(count)]
        scale = total / sum(weights)
        sizes = [max(20_000, int(w * scale)) for w in weights]
    if defect_plan is None:
        defect_plan = default_defects(count, rng)
    files: list[Path] = []
    planted: list[Planted] = []
    for n, size in enumerate(sizes):
        generation = ENVELOPE if rng.random() < envelope_share else PAGINATED
        defects = [d for d in defect_plan.get(n, []) if generation == PAGINATED or d != "duplicate-ordinal"]
        path, found = generate_rollout(_session_path(root, n, rng), generation, size, defects, rng.getrandbits(32),
                                       templates, texts)
        files.append(path)
        rel = str(path.relative_to(root))
        planted.extend(Planted(rel, rule, line) for rule, line in found)
    return Tree(root, files, planted, sum(p.stat().st_size for p in files))


def home_sizes(rng: random.Random, total: int, count: int, low: int, high: int) -> list[int]:
    """``count`` file sizes from ``low`` to ``high`` bytes adding up to about ``total``: what a home's
    sessions folder holds (issue 14: 37 rollouts of 1.7 to 15 MB, 277 MB in all, written by 0.169.0).
    Spread evenly in ``low * (high / low) ** (u ** skew)`` over ``u`` in (0, 1), the skew found so that
    they add up; shuffled."""

    def spread(skew: float) -> list[int]:
        return [int(low * (high / low) ** (((n + 0.5) / count) ** skew)) for n in range(count)]

    lo, hi = 0.05, 20.0
    for _ in range(60):
        skew = (lo + hi) / 2
        if sum(spread(skew)) > total:
            lo = skew
        else:
            hi = skew
    sizes = spread(lo)
    rng.shuffle(sizes)
    return sizes


def generate_home_tree(root: Path, seed: int, total: int, count: int, low: int, high: int) -> Tree:
    """A sessions folder like the one Codex 0.169.0 fills in a typical home: ``count`` paginated rollouts
    of ``low`` to ``high`` bytes, ``total`` in all, with the many small lines of ``HOME``; every defect
    kind planted once, as in ``generate_tree``."""
    rng = random.Random(seed)
    templates = {"0.169.0": load_templates("0.169.0"), "0.77.0": load_templates("0.77.0")}
    texts = Texts(random.Random(seed ^ 0x5EED))
    defect_plan = default_defects(count, rng)
    files: list[Path] = []
    planted: list[Planted] = []
    for n, size in enumerate(home_sizes(rng, total, count, low, high)):
        path, found = generate_rollout(_session_path(root, n, rng), PAGINATED, size, defect_plan.get(n, []),
                                       rng.getrandbits(32), templates, texts, HOME)
        files.append(path)
        planted.extend(Planted(str(path.relative_to(root)), rule, line) for rule, line in found)
    return Tree(root, files, planted, sum(p.stat().st_size for p in files))


def default_defects(count: int, rng: random.Random) -> dict[int, list[str]]:
    """Every defect kind once, spread over the first files, a few files with two."""
    kinds = list(DEFECT_RULES)
    plan: dict[int, list[str]] = {}
    for n, kind in enumerate(kinds):
        plan.setdefault((n * 3) % max(1, count), []).append(kind)
    return plan
