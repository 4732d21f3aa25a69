"""Label every global runtime, interpreter or immutable, with the rule that
decided and the facts it used."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..model import ScanResult, Verdict
from .facts import GlobalFacts, gather
from .rules import RULES


@dataclass(frozen=True, slots=True)
class Classified:
    """The verdicts, and the facts the rules read, by identity: what the
    planner and the reviewer's page show beside a verdict, without gathering
    them again."""
    verdicts: tuple[Verdict, ...]
    facts: Mapping[tuple[str, str, str], GlobalFacts]


def classify(result: ScanResult, files: frozenset[str] | None = None) -> tuple[Verdict, ...]:
    """One verdict per global of the scan, in the scan's order; with `files`,
    per global declared in one of them (the call graph is still the whole tree's)."""
    return classify_with_facts(result, files).verdicts


def classify_with_facts(result: ScanResult, files: frozenset[str] | None = None) -> Classified:
    wanted = tuple(var for var in result.globals if files is None or var.file in files)
    facts = gather(result, wanted)
    verdicts = []
    for var in wanted:
        fact = facts[var.identity]
        for rule in RULES:
            found = rule.match(fact)
            if found is not None:
                confidence, evidence = found
                verdicts.append(Verdict(identity=var.identity, state_class=rule.state_class, rule=rule.id,
                                        confidence=confidence, evidence=evidence))
                break
        else:
            raise AssertionError(f"no rule matched {var.identity}")   # the last rule always matches
    return Classified(verdicts=tuple(verdicts), facts=facts)
