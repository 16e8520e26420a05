"""How long does ``rollout-doctor guard`` add before a resume, next to just parsing the session?

    python bench/guard.py [--size-mb 5] [--reps 7]

Builds a CODEX_HOME in a temporary folder holding one paginated session of about ``--size-mb`` MB, made
from the real 0.169.0 fixture's lines (fixtures/real/0.169.0-responses-single-call) repeated turn after
turn with fresh call ids, ordinals and tool outputs of 1-64 KB, then times, alternating A B B A after an
untimed warm-up of each:

* ``parse``: ``python -c 'import orjson; [orjson.loads(l) for l in open(F, "rb")]'`` (the least any tool
  reading the session must do, interpreter start included);
* ``guard clean``: ``rollout-doctor guard UUID`` on the clean session (the everyday path);
* ``guard fix``: the same session with its last output line removed (an orphan call, as a crash leaves
  it); each run gets a fresh broken copy, untimed, and the guard writes the fix and its backup.

It prints the medians, the ratio to ``parse``, and the ten slowest imports of ``guard`` by
``python -X importtime``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.benchmark import install  # noqa: E402 - after the path that finds it
FIXTURE = next((ROOT / "fixtures/real/0.169.0-responses-single-call").glob("rollout-*.jsonl"))
THREAD = "01a1fe9f-a2fa-7091-8dab-b019fa49b280"


def build_session(target: int, seed: int = 6) -> bytes:
    rng = random.Random(seed)
    lines = [json.loads(raw) for raw in FIXTURE.read_bytes().splitlines()]
    head, turn = lines[:1], lines[1:]
    old_call = next(line["payload"]["call_id"] for line in turn if line["payload"].get("type") == "function_call")
    out: list[bytes] = []
    size = 0
    n = 0
    ordinal = 0

    def emit(line: dict) -> None:
        nonlocal size, ordinal
        line["ordinal"] = ordinal
        ordinal += 1
        raw = json.dumps(line, separators=(",", ":")).encode() + b"\n"
        out.append(raw)
        size += len(raw)

    for line in head:
        emit(line)
    while size < target:
        n += 1
        call_id = f"call_bench{n:08d}"
        text = "".join(rng.choice("abcdefghij \n") for _ in range(rng.randint(1024, 65536)))
        for line in json.loads(json.dumps(turn)):  # a deep copy of the turn
            payload = line["payload"]
            if payload.get("call_id") == old_call:
                payload["call_id"] = call_id
            if payload.get("type") == "function_call_output":
                payload["output"] = f"Chunk ID: {n:06x}\nWall time: 0.0100 seconds\nProcess exited with code 0\nOutput:\n{text}"
            item = payload.get("item")
            if isinstance(item, dict) and item.get("id") == old_call:
                item["id"] = call_id
                item["aggregated_output"] = text
            emit(line)
    return b"".join(out)


def timed(argv: list[str], env: dict[str, str], before: object = None) -> float:
    if callable(before):
        before()
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, default=5.0)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--root", type=Path, default=Path(tempfile.gettempdir()) / "rollout-doctor-bench",
                        help="where the installed copy of rollout-doctor is kept (bench/benchmark.py's --root)")
    args = parser.parse_args()
    # rollout-doctor as users install it, and the parse on the same interpreter (benchmark.install)
    python = str(install(ROOT, args.root) / "python")
    work = Path(tempfile.mkdtemp(prefix="rollout-doctor-bench-guard-"))
    try:
        home = work / "codex-home"
        session = home / "sessions/2026/11/21" / FIXTURE.name
        session.parent.mkdir(parents=True)
        clean = build_session(int(args.size_mb * 1_000_000))
        lines = clean.splitlines(keepends=True)
        last_output = max(i for i, raw in enumerate(lines) if b'"type":"function_call_output"' in raw)
        broken = b"".join(lines[:last_output] + lines[last_output + 1 :])
        env = {**os.environ, "CODEX_HOME": str(home), "ROLLOUT_DOCTOR_HOME": str(work / "state")}
        guard = [python, "-m", "rollout_doctor", "guard", THREAD]
        parse = [python, "-c", f"import orjson; [orjson.loads(l) for l in open({str(session)!r}, 'rb')]"]

        def put(data: bytes) -> object:
            return lambda: session.write_bytes(data)

        cases = {
            "parse": (parse, put(clean)),
            "guard clean": (guard, put(clean)),
            "guard fix": (guard, put(broken)),
        }
        session.write_bytes(broken)
        said = subprocess.run(guard, env=env, capture_output=True, text=True, check=False).stderr.strip()
        print(f"session: {len(clean):,} bytes, {len(lines):,} lines; guard on the broken copy said:\n  {said}")
        times: dict[str, list[float]] = {name: [] for name in cases}
        for name, (argv, before) in cases.items():
            timed(argv, env, before)  # warm-up
        order = list(cases)
        for rep in range(args.reps):
            for name in order if rep % 2 == 0 else reversed(order):
                argv, before = cases[name]
                times[name].append(timed(argv, env, before))
        base = statistics.median(times["parse"])
        for name, values in times.items():
            median = statistics.median(values)
            print(f"{name:12} median {median * 1000:7.1f} ms  ({median / base:4.2f}x parse)  "
                  f"min {min(values) * 1000:.1f} ms over {len(values)} runs")
        session.write_bytes(clean)
        imports = subprocess.run([python, "-X", "importtime", "-m", "rollout_doctor", "guard", THREAD],
                                 env=env, capture_output=True, text=True, check=False).stderr
        rows = []
        for row in imports.splitlines():
            if row.startswith("import time:") and "|" in row and "cumulative" not in row:
                _self, cumulative, name = (part.strip() for part in row[len("import time:"):].split("|"))
                rows.append((int(cumulative), name))
        top = sorted(rows, reverse=True)[:10]
        print("slowest imports of guard (cumulative, microseconds):")
        for cumulative, name in top:
            print(f"  {cumulative:8d}  {name}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
