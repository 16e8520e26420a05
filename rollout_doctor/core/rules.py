"""What a rule is, what it reports, and the registry a format keeps its rules in.

A rule is a module (yamllint's shape): its docstring is its documentation, upper-case constants are
its metadata, and ``check(context)`` yields what it finds. ``Rule.from_module`` reads the metadata and
refuses a module that misspells one (``PHAES = 0`` must not silently mean "phase 1"); ``Registry``
refuses two rules that share a code or a name, and metadata outside the format's own vocabulary (its
wires, categories, generations and effects). The engine (check.py) stamps each diagnostic with the
code and name of the rule that produced it, so a rule cannot report under another's name.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

from rollout_doctor.core.fixes import Fix
from rollout_doctor.core.plain import Fielded
from rollout_doctor.core.verdict import VERDICT_NAMES, Effect


class Diagnostic(NamedTuple):
    rule: str  # stamped by the engine (``Rule.run``); a rule leaves it empty
    code: str
    line: int  # 0-based; reports print line + 1
    message: str
    call_id: str | None = None
    fix: Fix | None = None
    # A fix that would change what the model is told, offered in place of a safe ``fix``: the rule
    # makes it ``fix`` under --unsafe-fixes; reports count it as what --unsafe-fixes would do.
    alternative: Fix | None = None
    # A fork's problem in the history it inherits: the parent file ``line`` is in (None: this file).
    path: Path | None = None
    # What it does to a resume (core/verdict.py), in the format's words: the rule's EFFECT, unless the
    # rule said otherwise for this case (the release, the wire or the shape can decide it).
    effect: str | None = None


def found(line: int, message: str, call_id: str | None = None, fix: Fix | None = None,
          alternative: Fix | None = None, effect: str | None = None) -> Diagnostic:
    """A diagnostic as a rule yields it: the engine fills in the rule's code and name, and its
    EFFECT when the rule names none for this case."""
    return Diagnostic("", "", line, message, call_id, fix, alternative, effect=effect)


@dataclass(init=False, repr=False, eq=False)
class Options(Fielded):
    # The wire: a name in the format's ``targets``; None lets the format decide per session (Codex:
    # the provider's wire in the user's config.toml), as the CLI does without --target.
    target: str | None = "responses"
    select: frozenset[str] | None = None  # rule names or codes; None means the default set
    ignore: frozenset[str] = field(default_factory=frozenset)
    unsafe_fixes: bool = False

    def __init__(self, target: str | None = "responses", select: frozenset[str] | None = None,
                 ignore: frozenset[str] | None = None, unsafe_fixes: bool = False) -> None:
        self.target = target
        self.select = select
        self.ignore = frozenset() if ignore is None else ignore
        self.unsafe_fixes = unsafe_fixes

    @property
    def every_default_rule(self) -> bool:
        """Whether every default rule runs (no ``--select``/``--ignore``): then ``Registry.left_out`` is
        empty, known without loading a format's rules (5 ms of a re-check that reads only what was appended)."""
        return self.select is None and not self.ignore


Check = Callable[[Any], Iterator[Diagnostic]]

REQUIRED = object()
# Metadata a rule module may set, with its default.
METADATA: dict[str, object] = {
    "CODE": REQUIRED,
    "NAME": REQUIRED,
    "SUMMARY": REQUIRED,
    "FIX_SAFETY": REQUIRED,
    "CATEGORY": REQUIRED,  # what the rule judges, one of the format's categories (Codex: pairing, structure)
    # What its defect does when the client resumes the session, one of the format's effects (core/verdict.py);
    # a diagnostic may say otherwise when the case decides it.
    "EFFECT": REQUIRED,
    "DEFAULT": True,  # run without --select
    "TARGET": None,  # only for this wire
    "PHASE": 1,
    # Its diagnostics follow a parent's change by construction (a child's pointer into its parent):
    # rewriting a child it was not asked about for them is expected, not a new problem.
    "FOLLOWS_PARENT": False,
    # The generations of file (Model.generation) it can find a problem in; None: all. The rule's check
    # decides; this says where its test cases must be.
    "GENERATIONS": None,
    "UPSTREAM": (),  # the upstream reports its documentation cites ("#16255": openai/codex's)
    # Its defect must never be made by a fix: the fix loop refuses a pass after which the rule reports
    # more than before it (fix_loop.py), whichever rule's fix made them.
    "INVARIANT": False,
}
_CODE = re.compile(r"[A-Z]{2}\d{3}")
_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_CODE_PREFIX = re.compile(r"[a-z]{1,2}\d{0,3}")  # lower-cased: RD, RD1, RD10


class RuleDefinitionError(TypeError):
    pass


class Rule(NamedTuple):
    code: str
    name: str
    summary: str
    doc: str
    fix_safety: str
    check: Check
    default: bool = True
    target: str | None = None
    # Fixes of a lower phase are applied, and the file checked again, before any of a higher phase:
    # repairing lines (phase 0) changes which items the history holds, so pairing fixes must wait.
    phase: int = 1
    follows_parent: bool = False
    category: str = ""
    generations: tuple[str, ...] | None = None
    upstream: tuple[str, ...] = ()
    effect: str = ""
    invariant: bool = False

    @classmethod
    def from_module(cls, module: ModuleType) -> Rule:
        where = module.__name__
        declared = {name for name in vars(module) if name.isupper() and not name.startswith("_")}
        misspelt = sorted(name for name in declared - set(METADATA) if any(_near(name, m) for m in METADATA))
        if misspelt:
            raise RuleDefinitionError(f"{where}: {', '.join(misspelt)} looks like misspelt rule metadata "
                                      f"(known: {', '.join(METADATA)})")
        missing = [name for name, default in METADATA.items() if default is REQUIRED and name not in declared]
        if missing or not callable(getattr(module, "check", None)):
            raise RuleDefinitionError(f"{where}: a rule needs {', '.join(missing or ['check'])}")
        meta: dict[str, Any] = {name: getattr(module, name, default) for name, default in METADATA.items()}
        if not _CODE.fullmatch(meta["CODE"]) or not _NAME.fullmatch(meta["NAME"]):
            raise RuleDefinitionError(f"{where}: code {meta['CODE']!r} or name {meta['NAME']!r} is malformed")
        for name in ("GENERATIONS", "UPSTREAM"):
            value = meta[name]
            if not (value is None and name == "GENERATIONS") and not _strings(value):
                raise RuleDefinitionError(f"{where}: {name} must be a tuple of strings, not {value!r}")
        if not (module.__doc__ or "").strip():
            raise RuleDefinitionError(f"{where}: the module docstring is the rule's documentation; it has none")
        return cls(code=meta["CODE"], name=meta["NAME"], summary=meta["SUMMARY"],
                   doc=inspect.cleandoc(module.__doc__), fix_safety=meta["FIX_SAFETY"], check=module.check,
                   default=meta["DEFAULT"], target=meta["TARGET"], phase=meta["PHASE"],
                   follows_parent=meta["FOLLOWS_PARENT"], category=meta["CATEGORY"],
                   generations=meta["GENERATIONS"], upstream=meta["UPSTREAM"], effect=meta["EFFECT"],
                   invariant=meta["INVARIANT"])

    def run(self, context: object) -> Iterator[Diagnostic]:
        """The rule's findings, each stamped with its code and name, and with its EFFECT unless the
        rule gave the case one of its own."""
        for d in self.check(context):
            yield Diagnostic(self.name, self.code, d.line, d.message, d.call_id, d.fix, d.alternative, d.path,
                             d.effect or self.effect)


def _strings(value: object) -> bool:
    return isinstance(value, tuple) and all(isinstance(v, str) for v in value)


def _near(a: str, b: str) -> bool:
    """Within two edits of each other (PHAES, CATEGROY, TARGETS): a misspelling, not another name.
    difflib would do, but costs a millisecond to import on every `check FILE`."""
    if abs(len(a) - len(b)) > 2 or a == b:
        return False
    if len(set(a).symmetric_difference(b)) > 4:  # an edit changes at most two letters of the set
        return False  # (most pairs end here: the distance below is 0.7 ms of every start-up's registry)
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1] <= 2 or sorted(a) == sorted(b)


class UnknownRule(ValueError):
    pass


class Registry:
    """A format's rules, in the order they are documented and run."""

    def __init__(self, modules: Iterable[ModuleType], targets: tuple[str, ...], categories: tuple[str, ...],
                 generations: tuple[str, ...], effects: tuple[Effect, ...]) -> None:
        self.rules: tuple[Rule, ...] = tuple(Rule.from_module(m) for m in modules)
        self.targets = targets
        self.effects = effects  # worst first (core/verdict.py)
        clashes = {e.name for e in effects} & set(VERDICT_NAMES)
        if clashes:
            raise RuleDefinitionError(f"effects {sorted(clashes)} are verdict names, not effects")
        self.by_key: dict[str, Rule] = {}
        # Which rules run is decided once per selection, not on every pass of the fix loop.
        self._active: dict[tuple[frozenset[str] | None, frozenset[str], str | None], list[Rule]] = {}
        for rule in self.rules:
            for key in (rule.name, rule.code.lower()):
                if key in self.by_key:
                    raise RuleDefinitionError(f"two rules are called {key!r}")
                self.by_key[key] = rule
            if rule.target is not None and rule.target not in targets:
                raise RuleDefinitionError(f"{rule.name}: TARGET {rule.target!r} is not one of {targets}")
            if rule.category not in categories:
                raise RuleDefinitionError(f"{rule.name}: CATEGORY {rule.category!r} is not one of {categories}")
            if not set(rule.generations or ()) <= set(generations):
                raise RuleDefinitionError(f"{rule.name}: GENERATIONS {rule.generations} are not among {generations}")
            if rule.effect not in {e.name for e in effects}:
                raise RuleDefinitionError(f"{rule.name}: EFFECT {rule.effect!r} is not one of "
                                          f"{tuple(e.name for e in effects)}")

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def lookup(self, key: str) -> Rule:
        try:
            return self.by_key[key.strip().lower()]
        except KeyError:
            raise UnknownRule(f"unknown rule {key!r}; `rollout-doctor rules` lists them") from None

    def resolve(self, keys: Iterable[str] | None, own_only: bool = False) -> set[str]:
        """Rule names for --select/--ignore values: a name, a code, a code prefix as in ruff (RD1: every
        RD1xx; RD: all), or ALL (every rule). ``own_only`` passes over a key that names none of this
        registry's rules (another format's: the caller checked that some format knows it)."""
        names: set[str] = set()
        for key in keys or ():
            try:
                names |= {rule.name for rule in self.matching(key)}
            except UnknownRule:
                if not own_only:
                    raise
        return names

    def matching(self, key: str) -> list[Rule]:
        """The rules one --select/--ignore value names; a prefix no code starts with is an error, as a
        misspelt name is (a selection that silently selects nothing would hide every problem)."""
        wanted = key.strip().lower()
        if wanted == "all":
            return list(self.rules)
        if wanted in self.by_key:
            return [self.by_key[wanted]]
        if not _CODE_PREFIX.fullmatch(wanted):
            return [self.lookup(key)]  # raises UnknownRule
        found = [rule for rule in self.rules if rule.code.lower().startswith(wanted)]
        if not found:
            raise UnknownRule(f"no rule's code starts with {key.strip()!r}; `rollout-doctor rules` lists them")
        return found

    def active(self, options: Options) -> list[Rule]:
        key = (options.select, frozenset(options.ignore), options.target)
        if key not in self._active:
            selected = (self.resolve(options.select, own_only=True) if options.select is not None
                        else {r.name for r in self.rules if r.default})
            ignored = self.resolve(options.ignore, own_only=True)
            self._active[key] = [r for r in self.rules if r.name in selected and r.name not in ignored
                                 and (r.target is None or r.target == options.target)]
        return self._active[key]

    def left_out(self, options: Options) -> list[Rule]:
        """The rules a default run has that ``--select``/``--ignore`` leave out, whatever the wire: when
        there are any, finding nothing is not an all-clear."""
        if options.every_default_rule:
            return []
        selected = self.resolve(options.select, own_only=True) if options.select is not None else None
        ignored = self.resolve(options.ignore, own_only=True)
        return [r for r in self.rules if r.default and ((selected is not None and r.name not in selected)
                                                         or r.name in ignored)]

    def phase(self, name: str) -> int:
        return self.by_key[name].phase
