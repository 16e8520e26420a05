"""How fast is ``rollout-doctor check`` on a heavy user's sessions, next to the least any tool must do?

    python bench/benchmark.py [--reps 5] [--only folder,big,single] [--root DIR] [--seed 5] [--checkout DIR]
    python bench/benchmark.py --only cold,fix    # issue 14: cold scans of both kinds of home, fix at copy speed

Three scenarios (issue 5), each generated deterministically from the seed by ``bench/generate.py`` into
``--root`` (kept there and reused while the parameters match; nothing is committed):

* ``folder``: ~300 MB in 40 rollouts. ``rollout-doctor check FOLDER`` against the naive baseline
  (``bench/baseline.py``: open every rollout, ``orjson.loads`` every line). Target: check <= 0.7x.
* ``big``: one 1 GB rollout. ``check`` must peak at <= 100 MiB; ``fix`` runs once on a copy (its time
  and peak memory are reported, and the copy must check clean afterwards).
* ``single``: one 5 MB session, the pre-resume path: ``rollout-doctor check FILE`` against
  ``python -c`` + orjson parsing that file. Target: <= 4x.
* ``warm``: the ``folder`` tree re-checked with the caches warm (core/index_cache.py, core/report_cache.py),
  against the naive scan: nothing changed (target <= 0.05x), then a turn appended to 3 of the 40 before
  each timed run (target <= 0.10x). The JSON report must be the one ``--no-cache`` gives.
* ``guard``: ``rollout-doctor guard ID`` of one 500 MB session after a turn was appended before each timed
  run, against ``python -c`` + orjson parsing that file. Target: <= 0.10x.
* ``cold`` (issue 14): ``check FOLDER --format json`` against the baseline on ``folder`` and on ``home``
  (38 rollouts of 2 to 15 MB written the way 0.169.0 writes a typical home: many small lines), wall and
  CPU, with the spread of the paired ratios. Target: <= 0.7x.
* ``fix`` (issue 14): ``fix`` of a copy of the 1 GB rollout against ``check`` of it plus ``cp`` of it.
  Target: <= 2x, and <= 100 MiB peak.

Both commands of a scenario run in the same session, alternating (A B B A ...) after one untimed warm-up
each, so page cache and machine noise hit both alike; the ratio is of the medians, and every run's time
is printed. Memory is measured in one more run of each, outside the timed ones: the largest single
process (``ru_maxrss`` from ``wait4``, exact, taken by a small launcher so that this process's own size
does not leak into it) and the peak of the whole process tree, polled every 5 ms from /proc (sum of
RSS, which counts the pages forked workers share once per process, and sum of PSS, which splits them).
Every planted defect must be reported, with its exact rule and line, and nothing else.

``--checkout DIR`` runs ``python -m rollout_doctor`` from another checkout (a ``git worktree`` of an
older commit) instead of the installed command: the "before" figures.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.generate import Planted, Tree, generate_tree

MB = 1_000_000
MIB = 1 << 20
SINGLE_BASELINE = "import orjson,sys\nfor line in open(sys.argv[1],'rb'):\n    try: orjson.loads(line)\n    except orjson.JSONDecodeError: pass"


@dataclass
class Run:
    wall: float
    returncode: int
    stdout: bytes = b""
    maxrss: int = 0  # bytes: the largest single process of the command's tree (wait4's ru_maxrss)
    tree_rss: int = 0  # bytes: polled peak of the sum over the command's process tree
    tree_pss: int = 0


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = [int(p) for p in f.read().split()]
    except OSError:
        return out
    for kid in kids:
        out.append(kid)
        out.extend(_children(kid))
    return out


def _rollup(pid: int) -> tuple[int, int]:
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, pss


class TreePoller(threading.Thread):
    """Samples the memory of all descendants of a process (not the process itself) until stopped."""

    def __init__(self, pid: int, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss = self.peak_pss = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            rss = pss = 0
            for pid in _children(self.pid):
                r, p = _rollup(pid)
                rss, pss = rss + r, pss + p
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self.done.wait(self.interval)


# ru_maxrss of a child counts the memory of the process that forked it (Linux records the old image's
# high-water mark at exec), so a command started straight from this big process would report this
# process's size. A small launcher starts it instead and reports the command's own figure.
LAUNCHER = ("import os,sys\npid=os.posix_spawn(sys.argv[1],sys.argv[1:],os.environ)\n_,st,ru=os.wait4(pid,0)\n"
            "os.write(2,b'\\nbench-maxrss-kib %d\\n'%ru.ru_maxrss)\nsys.exit(os.waitstatus_to_exitcode(st))")


def run(cmd: list[str], cwd: Path, env: dict[str, str], capture: bool = False) -> Run:
    """Time one command (nothing else runs meanwhile)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr.decode(errors='replace')[-2000:]}")
    return Run(wall, proc.returncode, proc.stdout if capture else b"")


def measure_memory(cmd: list[str], cwd: Path, env: dict[str, str], capture: bool = False) -> Run:
    """Run one command through the launcher, polling its process tree's memory."""
    start = time.perf_counter()
    executable = shutil.which(cmd[0]) or cmd[0]
    proc = subprocess.Popen([sys.executable, "-c", LAUNCHER, executable, *cmd[1:]], cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    poller = TreePoller(proc.pid)
    poller.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - start
    poller.done.set()
    poller.join()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr.decode(errors='replace')[-2000:]}")
    maxrss = int(stderr.rsplit(b"bench-maxrss-kib ", 1)[1].split()[0]) * 1024
    return Run(wall, proc.returncode, stdout if capture else b"", maxrss, poller.peak_rss, poller.peak_pss)


CHECKOUT: Path | None = None  # --checkout
INSTALLED: Path | None = None  # the bin folder of the environment rollout-doctor was installed into (main)


def rollout_doctor() -> list[str]:
    assert INSTALLED is not None, "install() first"
    return [str(INSTALLED / "rollout-doctor")]


def python() -> str:
    """The interpreter of the baselines: the installed environment's, so both sides start the same Python
    with the same site folder (orjson is one of rollout-doctor's dependencies)."""
    assert INSTALLED is not None, "install() first"
    return str(INSTALLED / "python")


def install(source: Path, root: Path) -> Path:
    """rollout-doctor from ``source`` installed as users install it (scripts/install.sh: built into an
    environment of its own, not editable), made once per version of the code under ``root/installed``;
    its bin folder.

    Measuring the development environment instead would add what users never run: setuptools' editable
    finder, which imports pathlib, urllib and ipaddress at every start-up (9 of the 20 ms before main();
    python -X importtime, 2026-11-29), a third of a replayed re-check."""
    parts = [source / "pyproject.toml", *sorted(p for p in (source / "rollout_doctor").rglob("*")
                                                 if p.is_file() and "__pycache__" not in p.parts)]
    digest = hashlib.blake2b(digest_size=8)
    for part in parts:
        digest.update(str(part.relative_to(source)).encode() + b"\0" + part.read_bytes() + b"\0")
    venv = root / "installed" / digest.hexdigest()
    if not (venv / "installed-ok").exists():
        print(f"installing rollout-doctor from {source} into {venv} ...", file=sys.stderr, flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        with tempfile.TemporaryDirectory() as build:
            for name in ("pyproject.toml", "README.md"):
                shutil.copy2(source / name, build)
            shutil.copytree(source / "rollout_doctor", Path(build) / "rollout_doctor",
                            ignore=shutil.ignore_patterns("__pycache__"))
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                            "--disable-pip-version-check", build], check=True)
        (venv / "installed-ok").touch()
    return venv / "bin"


# -- trees ------------------------------------------------------------------------------------------------

@dataclass
class Scenario:
    name: str
    seed: int
    total: int
    count: int
    sizes: list[int] | None = None
    defects: dict[int, list[str]] | None = None
    envelope_share: float = 0.25


def scenarios(seed: int) -> dict[str, Scenario]:
    return {
        "folder": Scenario("folder", seed, 300 * MB, 40),
        "big": Scenario("big", seed + 1, 1 << 30, 1, sizes=[1 << 30], envelope_share=0.0,
                        defects={0: ["orphan-call", "duplicate-ordinal", "torn-line", "misplaced-output"]}),
        "single": Scenario("single", seed + 2, 5 * MIB, 1, sizes=[5 * MIB], envelope_share=0.0,
                           defects={0: ["orphan-call"]}),
        "guard": Scenario("guard", seed + 3, 500 * MB, 1, sizes=[500 * MB], envelope_share=0.0, defects={0: []}),
        # Issue 14's fix row as it is written: a 1 GB rollout with one orphan call.
        "orphan": Scenario("orphan", seed + 1, 1 << 30, 1, sizes=[1 << 30], envelope_share=0.0,
                           defects={0: ["orphan-call"]}),
    }


def untouched(files: list[Path], size: int) -> bool:
    """Whether a tree's files are all there, as many bytes as when it was made: a line appended by an
    experiment run on the tree itself (once, a duplicated last line) would be reported as a defect
    nobody planted."""
    try:
        return sum(f.stat().st_size for f in files) == size
    except OSError:
        return False


def ensure_tree(root: Path, scenario: Scenario) -> Tree:
    """The scenario's tree under ``root``, generated unless an identical one is already there."""
    folder = root / scenario.name
    manifest = folder / "manifest.json"
    params = orjson.loads(orjson.dumps(asdict(scenario), option=orjson.OPT_NON_STR_KEYS))
    if manifest.exists():
        saved = orjson.loads(manifest.read_bytes())
        if saved.get("params") == params:
            files = [folder / f for f in saved["files"]]
            if untouched(files, saved["size"]):
                return Tree(folder, files, [Planted(**p) for p in saved["planted"]], saved["size"])
    shutil.rmtree(folder, ignore_errors=True)
    print(f"generating {scenario.name} ({scenario.total / MB:,.0f} MB in {scenario.count} rollout(s)) ...",
          file=sys.stderr, flush=True)
    defects = {int(k): v for k, v in scenario.defects.items()} if scenario.defects is not None else None
    tree = generate_tree(folder, scenario.seed, scenario.total, scenario.count, defects, scenario.sizes,
                         scenario.envelope_share)
    manifest.write_bytes(orjson.dumps({
        "params": params, "size": tree.size, "files": [str(f.relative_to(folder)) for f in tree.files],
        "planted": [asdict(p) for p in tree.planted],
    }))
    return tree


# -- measuring ----------------------------------------------------------------------------------------------

@dataclass
class Side:
    label: str
    cmd: list[str]
    what: str = ""
    runs: list[Run] = field(default_factory=list)
    memory: Run | None = None

    @property
    def median(self) -> float:
        return statistics.median(r.wall for r in self.runs)


SPIN = "import time\ns = time.perf_counter()\nx = 0\nfor i in range(5_000_000): x += i\nprint(time.perf_counter() - s)"


def two_process_throughput() -> float:
    """How much more two CPU-bound processes get done than one: 2.0 on two free cores, less where the
    two virtual CPUs share a physical core or a host's time. The folder target assumes both cores."""
    ratios = []
    for _ in range(3):
        one = float(subprocess.run([sys.executable, "-c", SPIN], capture_output=True, check=True).stdout)
        pair = [subprocess.Popen([sys.executable, "-c", SPIN], stdout=subprocess.PIPE) for _ in range(2)]
        both = max(float(p.communicate()[0]) for p in pair)
        ratios.append(2 * one / both)
    return statistics.median(ratios)


def alternate(a: Side, b: Side, cwd: Path, env: dict[str, str], reps: int) -> None:
    """Warm up both (page cache, .pyc files), time them in turn, A B B A ..., then measure memory."""
    run(a.cmd, cwd, env)
    run(b.cmd, cwd, env)
    for n in range(reps):
        for side in (a, b) if n % 2 == 0 else (b, a):
            side.runs.append(run(side.cmd, cwd, env))
    a.memory = measure_memory(a.cmd, cwd, env)
    b.memory = measure_memory(b.cmd, cwd, env)


def verify(tree: Tree, env: dict[str, str], paths: list[Path]) -> tuple[int, list[str], list[str]]:
    """Planted defects found (exact rule and line), the ones missed, and anything reported besides."""
    out = run([*rollout_doctor(), "check", "--format", "json", *map(str, paths)], tree.root, env, capture=True)
    report = orjson.loads(out.stdout)
    found = set()
    for f in report["files"]:
        rel = str(Path(f["path"]).resolve().relative_to(tree.root.resolve()))
        if f["error"]:
            found.add((rel, "error", 0))
        found.update((rel, d["rule"], d["line"]) for d in f["diagnostics"])
    planted = {(p.path, p.rule, p.line) for p in tree.planted}
    missing = [f"{r} line {n} in {p}" for p, r, n in sorted(planted - found)]
    extra = [f"{r} line {n} in {p}" for p, r, n in sorted(found - planted)]
    return len(planted & found), missing, extra


def mib(n: int) -> str:
    return f"{n / MIB:,.1f} MiB"


def describe(side: Side, size: int) -> str:
    memory = side.memory
    assert memory is not None
    return (f"  {side.label:<9} median {side.median:7.3f} s  {size / MB / side.median:7,.0f} MB/s  "
            f"peak memory: largest process {mib(memory.maxrss)}, whole tree {mib(memory.tree_rss)} RSS / "
            f"{mib(memory.tree_pss)} PSS")


def report_defects(tree: Tree, env: dict[str, str], paths: list[Path]) -> bool:
    hit, missing, extra = verify(tree, env, paths)
    print(f"  planted defects found: {hit}/{len(tree.planted)} (exact rule and line); "
          f"missed {len(missing)}, unexpected {len(extra)}")
    for m in missing:
        print(f"    MISSED {m}")
    for e in extra[:20]:
        print(f"    UNEXPECTED {e}")
    return not missing and not extra


def compare(name: str, tree: Tree, check: Side, base: Side, env: dict[str, str], reps: int,
            target: float | None, paths: list[Path]) -> dict[str, object]:
    print(f"\n{name}: {len(tree.files)} rollout(s), {tree.size / MB:,.1f} MB, {len(tree.planted)} planted defect(s)")
    print(f"  check:    {' '.join(Path(c).name if n == 0 else c for n, c in enumerate(check.cmd))}")
    print(f"  baseline: {base.what}")
    alternate(check, base, tree.root, env, reps)
    print(describe(check, tree.size))
    print(describe(base, tree.size))
    ratio = check.median / base.median
    verdict = "" if target is None else f" (target <= {target}: {'met' if ratio <= target else 'MISSED'})"
    # Each repetition times both sides back to back; on a virtual machine whose speed drifts over seconds,
    # the ratio within a pair is steadier than the ratio of the two medians, so both are shown.
    paired = statistics.median(c.wall / b.wall for c, b in zip(check.runs, base.runs))
    print(f"  ratio check/baseline {ratio:.2f}{verdict}; median of the {len(check.runs)} paired ratios {paired:.2f}")
    print(f"  check runs {', '.join(f'{r.wall:.3f}' for r in check.runs)}; "
          f"baseline runs {', '.join(f'{r.wall:.3f}' for r in base.runs)}")
    ok = report_defects(tree, env, paths)
    assert check.memory is not None
    return {"ratio": ratio, "paired_ratio": paired, "target_met": target is None or ratio <= target, "defects_ok": ok,
            "check": check.median, "baseline": base.median, "check_memory": check.memory}


def big_scenario(tree: Tree, env: dict[str, str], reps: int) -> dict[str, object]:
    path = tree.files[0]
    check = Side("check", [*rollout_doctor(), "check", str(path)])
    base = Side("baseline", [python(), str(HERE / "baseline.py"), str(path)], "bench/baseline.py FILE")
    result = compare("big", tree, check, base, env, reps, None, [path])
    memory: Run = result["check_memory"]  # type: ignore[assignment]
    peak = max(memory.maxrss, memory.tree_pss)
    met = peak <= 100 * MIB
    print(f"  check peak memory {mib(peak)} (the larger of the largest process and the tree's PSS; "
          f"target <= 100 MiB: {'met' if met else 'MISSED'})")
    result["target_met"] = met
    # fix, once, on a copy: it writes a backup and the fixed file, so it cannot be repeated in place.
    work = Path(tempfile.mkdtemp(prefix="fix-", dir=tree.root))
    try:
        copy = work / path.name
        shutil.copyfile(path, copy)
        fix_env = dict(env, ROLLOUT_DOCTOR_HOME=str(work / "state"))
        fixed = measure_memory([*rollout_doctor(), "fix", str(copy)], work, fix_env, capture=True)
        after = run([*rollout_doctor(), "check", "--format", "json", str(copy)], work, fix_env, capture=True)
        left = orjson.loads(after.stdout)["summary"]["diagnostics"]
        print(f"  fix on a copy: {fixed.wall:.1f} s, exit {fixed.returncode}; peak memory: largest process "
              f"{mib(fixed.maxrss)}, whole tree {mib(fixed.tree_pss)} PSS; check afterwards: {left} problem(s)")
        result.update(fix_wall=fixed.wall, fix_memory=fixed, fix_clean=left == 0)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


# -- warm: the index and report caches (issue 14) ------------------------------------------------------------

RACY_WAIT = 2.1  # core/index_cache.RACY: a file changed less than 2 s before a run is not trusted by size alone
_TURNS: dict[str, object] = {}


def append_turn(path: Path, seed: int) -> int:
    """Append one whole turn to a rollout, as its Codex release writes one (bench/generate.py's Session,
    its ordinals continuing the file's); the bytes appended."""
    import random

    from bench.generate import ENVELOPE, PAGINATED, RolloutFile, Session, Texts, load_templates

    with open(path, "rb") as f:
        head = f.readline()
        f.seek(max(0, path.stat().st_size - (1 << 20)))
        tail = f.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
    generation = PAGINATED if b'"paginated"' in head else ENVELOPE
    release = "0.169.0" if generation == PAGINATED else "0.77.0"
    if release not in _TURNS:
        _TURNS[release] = load_templates(release)
    if "texts" not in _TURNS:
        _TURNS["texts"] = Texts(random.Random(7))
    rng = random.Random(seed)
    texts: Texts = _TURNS["texts"]  # type: ignore[assignment]
    texts.rng = rng
    # Made aside, then appended, as Codex appends to a rollout with nothing made beside it: a file made and
    # removed in the session's folder would change the folder, which the run cache reads as a file added.
    scratch = Path(tempfile.gettempdir()) / f".rollout-doctor-bench-turn-{os.getpid()}-{seed}.tmp"
    out = RolloutFile(scratch, generation)
    last = orjson.loads(tail).get("ordinal") if generation == PAGINATED else None
    out.ordinal = last + 1 if isinstance(last, int) else 0
    thread = orjson.loads(head)["payload"]["id"]
    Session(out, texts, _TURNS[release], rng, thread).turn(None, first=False)  # type: ignore[arg-type]
    out.close()
    data = scratch.read_bytes()
    scratch.unlink()
    with open(path, "ab") as f:
        f.write(data)
    return len(data)


def timed_pairs(check: Side, base: Side, cwd: Path, env: dict[str, str], reps: int,
                prepare: object = None) -> None:
    """``alternate``, with ``prepare()`` (untimed) before each run of ``check``: the change it re-checks."""
    if prepare is not None:
        prepare()  # type: ignore[operator]
    run(check.cmd, cwd, env)
    run(base.cmd, cwd, env)
    for n in range(reps):
        for side in (check, base) if n % 2 == 0 else (base, check):
            if side is check and prepare is not None:
                prepare()  # type: ignore[operator]
            side.runs.append(run(side.cmd, cwd, env))
    check.memory = measure_memory(check.cmd, cwd, env)
    base.memory = measure_memory(base.cmd, cwd, env)


def show_ratio(name: str, what: str, check: Side, base: Side, size: int, target: float) -> dict[str, object]:
    print(f"\n{name}: {what}")
    print(f"  check:    {' '.join(Path(c).name if n == 0 else c for n, c in enumerate(check.cmd))}")
    print(f"  baseline: {base.what}")
    print(describe(check, size))
    print(describe(base, size))
    ratio = check.median / base.median
    paired = statistics.median(c.wall / b.wall for c, b in zip(check.runs, base.runs))
    print(f"  ratio check/baseline {ratio:.3f} (target <= {target}: {'met' if ratio <= target else 'MISSED'}); "
          f"median of the {len(check.runs)} paired ratios {paired:.3f}")
    print(f"  check runs {', '.join(f'{r.wall * 1000:.0f} ms' for r in check.runs)}; "
          f"baseline runs {', '.join(f'{r.wall:.3f}' for r in base.runs)}")
    return {"ratio": ratio, "paired_ratio": paired, "target_met": ratio <= target, "check": check.median,
            "baseline": base.median}


def same_report(cmd: list[str], cwd: Path, env: dict[str, str]) -> bool:
    """Whether the JSON report with the cache is the report without it (the cache never changes a report)."""
    cached = run(cmd, cwd, env, capture=True).stdout
    plain = run([*cmd[:2], "--no-cache", *cmd[2:]], cwd, env, capture=True).stdout
    print(f"  report with the cache {'==' if cached == plain else 'DIFFERS FROM'} the report with --no-cache")
    return cached == plain


def warm_scenario(tree: Tree, env: dict[str, str], reps: int, root: Path) -> dict[str, object]:
    """Re-checks of the folder with the caches warm: nothing changed, then a turn appended to 3 of the 40."""
    work = root / "warm-work"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(tree.root / "sessions", work / "sessions")
    wenv = dict(env, ROLLOUT_DOCTOR_CACHE_DIR=str(work / "cache"), ROLLOUT_DOCTOR_HOME=str(work / "state"))
    time.sleep(RACY_WAIT)  # the copies are new files: let them age past the cache's racy window first
    cmd = [*rollout_doctor(), "check", "--format", "json", "sessions"]
    # What writing the cache costs a cold scan: the same check with an empty cache folder, against --no-cache.
    cold, plain = Side("cold+cache", cmd), Side("--no-cache", [*cmd[:2], "--no-cache", *cmd[2:]], "--no-cache")
    timed_pairs(cold, plain, work, wenv, reps, lambda: shutil.rmtree(work / "cache", ignore_errors=True))
    writing = statistics.median(c.wall / b.wall for c, b in zip(cold.runs, plain.runs))
    print(f"\ncold check writing the cache: median {cold.median:.3f} s against {plain.median:.3f} s with --no-cache "
          f"(paired median ratio {writing:.2f}; runs {', '.join(f'{r.wall:.2f}' for r in cold.runs)} against "
          f"{', '.join(f'{r.wall:.2f}' for r in plain.runs)})")
    shutil.rmtree(work / "cache", ignore_errors=True)
    prime = run(cmd, work, wenv)
    cache_bytes = sum(p.stat().st_size for p in (work / "cache").rglob("*") if p.is_file())
    print(f"\nwarm: the first check (cold, writing the cache) {prime.wall:.2f} s; cache {mib(cache_bytes)} for "
          f"{tree.size / MB:,.0f} MB of sessions ({100 * cache_bytes / tree.size:.1f}%)")
    results: dict[str, object] = {"cache_bytes": cache_bytes, "cold_writing_ratio": writing}
    check = Side("check", cmd)
    base = Side("baseline", [python(), str(HERE / "baseline.py"), "sessions"], "bench/baseline.py sessions")
    timed_pairs(check, base, work, wenv, reps)
    results["unchanged"] = show_ratio("warm-unchanged", "re-check of the folder, nothing changed", check, base,
                                      tree.size, 0.05)
    ok = same_report(cmd, work, wenv)
    files = sorted((work / "sessions").rglob("rollout-*.jsonl"))
    chosen = [files[n * len(files) // 3] for n in range(3)]
    seeds = iter(range(1000, 100_000))

    def append_three() -> None:
        for path in chosen:
            append_turn(path, next(seeds))

    check, base = Side("check", cmd), Side("baseline", base.cmd, base.what)
    timed_pairs(check, base, work, wenv, reps, append_three)
    sizes = ", ".join(f"{p.stat().st_size / MB:.1f} MB" for p in chosen)
    results["appended"] = show_ratio("warm-appended", f"re-check after a turn was appended to 3 of the 40 ({sizes})",
                                     check, base, tree.size, 0.10)
    ok = same_report(cmd, work, wenv) and ok
    results["target_met"] = all(r["target_met"] for r in (results["unchanged"], results["appended"]))  # type: ignore[index]
    results["defects_ok"] = ok
    shutil.rmtree(work, ignore_errors=True)
    return results


def guard_scenario(tree: Tree, env: dict[str, str], reps: int, root: Path) -> dict[str, object]:
    """``guard`` on a 500 MB session after a turn was appended, the cache warm from the guard before."""
    work = root / "guard-work"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(tree.root / "sessions", work / "home" / "sessions")
    path = next((work / "home" / "sessions").rglob("rollout-*.jsonl"))
    thread = orjson.loads(path.open("rb").readline())["payload"]["id"]
    genv = dict(env, CODEX_HOME=str(work / "home"), ROLLOUT_DOCTOR_CACHE_DIR=str(work / "cache"),
                ROLLOUT_DOCTOR_HOME=str(work / "state"))
    time.sleep(RACY_WAIT)
    cmd = [*rollout_doctor(), "guard", thread]
    seeds = iter(range(1000, 100_000))
    check = Side("guard", cmd)
    base = Side("python -c", [python(), "-c", SINGLE_BASELINE, str(path)],
                "python -c 'import orjson; for line in open(FILE, \"rb\"): orjson.loads(line)' FILE")
    timed_pairs(check, base, work, genv, reps, lambda: append_turn(path, next(seeds)))
    result = show_ratio("guard-appended", f"guard of a {tree.size / MB:,.0f} MB session after a turn was appended",
                        check, base, tree.size, 0.10)
    final = subprocess.run(cmd, cwd=work, env=genv, capture_output=True, check=False)
    print(f"  guard says: {final.stderr.decode(errors='replace').strip()} (exit {final.returncode})")
    result["defects_ok"] = final.returncode == 0
    shutil.rmtree(work, ignore_errors=True)
    return result


# -- issue 14: cold scans of two kinds of home, and fix at copy speed ------------------------------------

HOME_PARAMS = {"kind": "home", "total": 290 * MB, "count": 38, "low": 1_500_000, "high": 15 * MB}


def ensure_home_tree(root: Path, seed: int) -> Tree:
    """The ``home`` tree (bench/generate.py ``generate_home_tree``: what 0.169.0 writes in a typical home,
    38 rollouts of 2 to 15 MB, many small lines), generated unless an identical one is already there."""
    folder = root / "home"
    manifest = folder / "manifest.json"
    params = {**HOME_PARAMS, "seed": seed + 3}
    if manifest.exists():
        saved = orjson.loads(manifest.read_bytes())
        files = [folder / f for f in saved["files"]]
        if saved.get("params") == params and untouched(files, saved["size"]):
            return Tree(folder, files, [Planted(**p) for p in saved["planted"]], saved["size"])
    shutil.rmtree(folder, ignore_errors=True)
    print(f"generating home ({HOME_PARAMS['total'] / MB:,.0f} MB in {HOME_PARAMS['count']} rollouts) ...",
          file=sys.stderr, flush=True)
    from bench.generate import generate_home_tree

    tree = generate_home_tree(folder, params["seed"], HOME_PARAMS["total"], HOME_PARAMS["count"],  # type: ignore[arg-type]
                              HOME_PARAMS["low"], HOME_PARAMS["high"])  # type: ignore[arg-type]
    manifest.write_bytes(orjson.dumps({
        "params": params, "size": tree.size, "files": [str(f.relative_to(folder)) for f in tree.files],
        "planted": [asdict(p) for p in tree.planted]}))
    return tree


def timed_cpu(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, of the command and every process it waited for)."""
    before = os.times()
    wall = run(cmd, cwd, env).wall
    after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}x to {max(values):.2f}x, median {statistics.median(values):.2f}x"


def cold_scenario(root: Path, seed: int, env: dict[str, str], reps: int) -> dict[str, object]:
    """Cold ``check FOLDER --format json`` against the naive scan on both trees: the heavy user's folder
    (``folder``) and a typical home (``home``), alternating run by run (A B B A ...)."""
    trees = {"folder": ensure_tree(root, scenarios(seed)["folder"]), "home": ensure_home_tree(root, seed)}
    result: dict[str, object] = {"target_met": True, "defects_ok": True}
    for name, tree in trees.items():
        check = [*rollout_doctor(), "check", "--format", "json", "sessions"]
        base = [python(), str(HERE / "baseline.py"), "sessions"]
        lines = sum(f.read_bytes().count(b"\n") for f in tree.files)
        print(f"\ncold {name}: {len(tree.files)} rollouts, {tree.size / MB:,.1f} MB, {lines:,} lines "
              f"({tree.size / lines:,.0f} bytes a line); check --format json vs bench/baseline.py, {reps} pairs")
        run(check, tree.root, env)
        run(base, tree.root, env)
        pairs: list[tuple[tuple[float, float], tuple[float, float]]] = []
        for n in range(reps):
            if n % 2 == 0:
                c = timed_cpu(check, tree.root, env)
                b = timed_cpu(base, tree.root, env)
            else:
                b = timed_cpu(base, tree.root, env)
                c = timed_cpu(check, tree.root, env)
            pairs.append((c, b))
        walls = [c[0] / b[0] for c, b in pairs]
        cpus = [c[1] / b[1] for c, b in pairs]
        ratio = statistics.median(c[0] for c, _ in pairs) / statistics.median(b[0] for _, b in pairs)
        print(f"  check median {statistics.median(c[0] for c, _ in pairs):.3f} s wall, "
              f"{statistics.median(c[1] for c, _ in pairs):.2f} s CPU; baseline "
              f"{statistics.median(b[0] for _, b in pairs):.3f} s wall, {statistics.median(b[1] for _, b in pairs):.2f} s CPU")
        met = ratio <= 0.7
        print(f"  ratio of medians {ratio:.2f} (target <= 0.7: {'met' if met else 'MISSED'}); paired wall ratios "
              f"{spread(walls)}; CPU ratios {spread(cpus)}")
        print(f"  pairs (check/baseline, s): {', '.join(f'{c[0]:.2f}/{b[0]:.2f}' for c, b in pairs)}")
        ok = report_defects(tree, env, [tree.root / "sessions"])
        result[name] = {"ratio": ratio, "paired": walls, "cpu": cpus}
        result["target_met"] = bool(result["target_met"]) and met
        result["defects_ok"] = bool(result["defects_ok"]) and ok
    return result


def fix_scenario(root: Path, seed: int, env: dict[str, str], reps: int) -> dict[str, object]:
    """``fix`` of a 1 GB rollout against ``check`` of it plus ``cp`` of it, twice: the issue's row as it is
    written (one orphan call), then the benchmark's harder rollout (one orphan call, a repeated ordinal, a
    torn line, a misplaced output: the repeated ordinal has every line after it renumbered, half the file's
    lines rewritten). Each repetition copies the file (timed), checks the original (timed), fixes the copy
    (timed) and checks that the copy is clean afterwards. Target, for each: fix <= 2x check + cp, and
    <= 100 MiB peak (one more run, through the memory launcher)."""
    rows = {name: _fix_row(ensure_tree(root, scenarios(seed)[name]), env, reps) for name in ("orphan", "big")}
    return {**rows, "target_met": all(r["target_met"] for r in rows.values()),
            "defects_ok": all(r["defects_ok"] for r in rows.values())}


def _fix_row(tree: Tree, env: dict[str, str], reps: int) -> dict[str, object]:
    path = tree.files[0]
    work = Path(tempfile.mkdtemp(prefix="fixrow-", dir=tree.root))
    rules = ", ".join(p.rule for p in tree.planted)
    print(f"\nfix: one rollout, {tree.size / MB:,.1f} MB, {len(tree.planted)} planted defect(s) ({rules}); fix of a "
          f"copy vs check + cp, {reps} repetition(s)")
    try:
        copy = work / path.name
        fix_env = dict(env, ROLLOUT_DOCTOR_HOME=str(work / "state"))
        rows: list[tuple[float, float, float]] = []
        clean = True
        for n in range(reps + 1):
            copy.unlink(missing_ok=True)
            shutil.rmtree(work / "state", ignore_errors=True)
            cp = run(["cp", str(path), str(copy)], work, env).wall
            check = run([*rollout_doctor(), "check", str(path)], work, env).wall
            if n == reps:  # the last one, for memory only
                memory = measure_memory([*rollout_doctor(), "fix", str(copy)], work, fix_env)
            else:
                fix = run([*rollout_doctor(), "fix", str(copy)], work, fix_env).wall
                rows.append((cp, check, fix))
            after = run([*rollout_doctor(), "check", "--format", "json", str(copy)], work, fix_env, capture=True)
            clean = clean and orjson.loads(after.stdout)["summary"]["diagnostics"] == 0
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratios = [fix / (cp + check) for cp, check, fix in rows]
    ratio = statistics.median(ratios)
    peak = max(memory.maxrss, memory.tree_pss)
    met = ratio <= 2.0 and peak <= 100 * MIB
    print(f"  cp median {statistics.median(r[0] for r in rows):.2f} s, check {statistics.median(r[1] for r in rows):.2f} s, "
          f"fix {statistics.median(r[2] for r in rows):.2f} s; fix / (check + cp) median {ratio:.2f} "
          f"({spread(ratios)}; target <= 2)")
    print(f"  fix peak memory {mib(peak)} (largest process {mib(memory.maxrss)}; target <= 100 MiB); "
          f"check afterwards: {'clean' if clean else 'PROBLEMS LEFT'}; "
          f"{'met' if met else 'MISSED'}")
    print(f"  runs (cp, check, fix s): {'; '.join(f'{a:.2f}, {b:.2f}, {c:.2f}' for a, b, c in rows)}")
    return {"ratio": ratio, "peak": peak, "target_met": met, "defects_ok": clean}


MORE_SCENARIOS = {"cold": cold_scenario, "fix": fix_scenario}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(tempfile.gettempdir()) / "rollout-doctor-bench")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--only", default="folder,big,single,warm,guard")
    parser.add_argument("--checkout", type=Path, help="run rollout-doctor from this checkout instead")
    args = parser.parse_args(argv)
    global CHECKOUT, INSTALLED
    CHECKOUT = args.checkout.resolve() if args.checkout else None
    INSTALLED = install(CHECKOUT or HERE.parent, args.root)
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    all_scenarios = scenarios(args.seed)
    env = dict(os.environ, NO_COLOR="1")
    env.pop("CODEX_HOME", None)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"rollout-doctor benchmark: {os.cpu_count()} CPU(s), Python {sys.version.split()[0]}, "
          f"{args.reps} alternating repetition(s), load average {load:.2f} at start; trees in {args.root}"
          + (f"; rollout-doctor from {CHECKOUT}" if CHECKOUT else ""))
    print(f"two processes at once do {two_process_throughput():.2f}x the work of one on this machine "
          "(a pure-Python loop, median of 3): the most a scan on every core can gain")
    results: dict[str, dict[str, object]] = {}
    ok = True
    # The cold scenarios measure a first run: no cache (core/cache_files.py) may answer for the work.
    # The variable, not --no-cache, so that a --checkout from before the cache runs them too.
    cold = dict(env, ROLLOUT_DOCTOR_NO_CACHE="1")
    for name in wanted:
        if name in MORE_SCENARIOS:
            results[name] = MORE_SCENARIOS[name](args.root, args.seed, cold, args.reps)
            ok = ok and bool(results[name]["defects_ok"]) and bool(results[name]["target_met"])
            continue
        tree = ensure_tree(args.root, all_scenarios["folder" if name == "warm" else name])
        if name == "folder":
            check = Side("check", [*rollout_doctor(), "check", "sessions"])
            base = Side("baseline", [python(), str(HERE / "baseline.py"), "sessions"],
                        "bench/baseline.py sessions")
            results[name] = compare(name, tree, check, base, cold, args.reps, 0.7, [tree.root / "sessions"])
        elif name == "warm":
            results[name] = warm_scenario(tree, env, args.reps, args.root)
        elif name == "guard":
            results[name] = guard_scenario(tree, env, args.reps, args.root)
        elif name == "big":
            results[name] = big_scenario(tree, cold, max(1, args.reps // 2))
            ok = ok and bool(results[name]["fix_clean"])
        elif name == "single":
            path = tree.files[0]
            check = Side("check", [*rollout_doctor(), "check", str(path)])
            base = Side("python -c", [python(), "-c", SINGLE_BASELINE, str(path)],
                        "python -c 'import orjson; for line in open(FILE, \"rb\"): orjson.loads(line)' FILE")
            results[name] = compare(name, tree, check, base, cold, args.reps * 3, 4.0, [path])
        else:
            raise SystemExit(f"unknown scenario {name!r}")
        ok = ok and bool(results[name]["defects_ok"]) and bool(results[name]["target_met"])
    print("\nall targets met" if ok else "\nsome targets MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
