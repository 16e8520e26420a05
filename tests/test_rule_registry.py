"""A rule's metadata is checked when it is registered: a misspelt or missing name, a malformed value,
two rules under one code or name, or a value outside the format's vocabulary fails loudly, at import."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from rollout_doctor.core.rules import Diagnostic, Registry, RuleDefinitionError
from rollout_doctor.core.verdict import Effect
from rollout_doctor.formats.codex.rules import REGISTRY

VOCABULARY = {"targets": ("responses", "chat"), "categories": ("pairing", "structure"),
              "generations": ("legacy", "envelope", "paginated"),
              "effects": (Effect("refused", True, "will not resume"), Effect("patched", False, "resumes"))}


def check(_ctx: Any) -> Iterator[Diagnostic]:
    yield from ()


def rule_module(name: str = "a-rule", code: str = "XX001", **metadata: Any) -> ModuleType:
    module = ModuleType(f"rules.{name.replace('-', '_')}", "What it checks, and why.")
    fields = {"CODE": code, "NAME": name, "SUMMARY": "a summary", "FIX_SAFETY": "no fix",
              "CATEGORY": "pairing", "EFFECT": "patched", "check": check, **metadata}
    for key, value in fields.items():
        if value is not None:
            setattr(module, key, value)
    return module


def register(*modules: ModuleType) -> Registry:
    return Registry(modules, **VOCABULARY)


def test_a_well_formed_rule_registers_with_its_metadata() -> None:
    rule = register(rule_module(PHASE=0, GENERATIONS=("paginated",), UPSTREAM=("#1",))).lookup("a-rule")
    assert (rule.code, rule.phase, rule.category, rule.generations, rule.upstream) == (
        "XX001", 0, "pairing", ("paginated",), ("#1",))


@pytest.mark.parametrize("misspelt", ["PHAES", "CATEGROY", "GENERATION", "UPSTREEM", "DEFALT"])
def test_a_misspelt_metadata_name_fails_registration(misspelt: str) -> None:
    with pytest.raises(RuleDefinitionError, match=f"{misspelt} looks like misspelt rule metadata"):
        register(rule_module(**{misspelt: 0}))


@pytest.mark.parametrize("missing", ["CODE", "NAME", "SUMMARY", "FIX_SAFETY", "CATEGORY", "EFFECT", "check"])
def test_required_metadata_must_be_there(missing: str) -> None:
    with pytest.raises(RuleDefinitionError, match="a rule needs"):
        register(rule_module(**{missing: None}))


def test_two_rules_with_one_code_fail() -> None:
    with pytest.raises(RuleDefinitionError, match="two rules are called 'xx001'"):
        register(rule_module("one-rule", "XX001"), rule_module("another-rule", "XX001"))


def test_two_rules_with_one_name_fail() -> None:
    with pytest.raises(RuleDefinitionError, match="two rules are called 'a-rule'"):
        register(rule_module("a-rule", "XX001"), rule_module("a-rule", "XX002"))


@pytest.mark.parametrize(("metadata", "message"), [
    ({"CATEGORY": "style"}, "CATEGORY 'style' is not one of"),
    ({"EFFECT": "annoying"}, "EFFECT 'annoying' is not one of"),
    ({"EFFCT": "patched"}, "EFFCT looks like misspelt rule metadata"),
    ({"TARGET": "carrier-pigeon"}, "TARGET 'carrier-pigeon' is not one of"),
    ({"GENERATIONS": ("envelope", "scroll")}, "GENERATIONS .* are not among"),
    ({"GENERATIONS": "paginated"}, "GENERATIONS must be a tuple of strings"),
    ({"UPSTREAM": "#16255"}, "UPSTREAM must be a tuple of strings"),
    ({"CODE": "rd101"}, "malformed"),
    ({"NAME": "Orphan Call"}, "malformed"),
])
def test_metadata_outside_the_vocabulary_fails(metadata: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleDefinitionError, match=message):
        register(rule_module(**metadata))


def test_a_rule_without_documentation_fails() -> None:
    module = rule_module()
    module.__doc__ = None
    with pytest.raises(RuleDefinitionError, match="docstring"):
        register(module)


def test_codex_rules_are_all_registered_with_a_category() -> None:
    assert {rule.category for rule in REGISTRY} == {"pairing", "structure"}
    assert len({rule.code for rule in REGISTRY}) == len(REGISTRY.rules)


def test_an_effect_may_not_take_a_verdict_name() -> None:
    with pytest.raises(RuleDefinitionError, match="verdict names"):
        Registry([rule_module()], **{**VOCABULARY, "effects": (Effect("resumes", False, "resumes"),)})


def test_the_engine_stamps_the_rules_effect_unless_the_case_names_one() -> None:
    from rollout_doctor.core.rules import found

    module = rule_module()
    module.check = lambda _ctx: iter([found(0, "as declared"), found(1, "worse here", effect="refused")])
    rule = register(module).lookup("a-rule")
    assert [d.effect for d in rule.run(None)] == ["patched", "refused"]


def test_every_codex_rule_declares_an_effect_of_its_vocabulary() -> None:
    names = [effect.name for effect in REGISTRY.effects]
    assert names == ["refused", "dropped", "patched", "harmless"], "worst first"
    assert {rule.effect for rule in REGISTRY} <= set(names)
    assert all("Effect on a resume:" in rule.doc for rule in REGISTRY), "each rule says why, and where seen"
