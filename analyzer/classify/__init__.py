"""Label every global runtime, interpreter or immutable, with the rule that
decided and the facts it used."""
from __future__ import annotations

from ..model import ScanResult, Verdict
from .facts import gather
from .rules import RULES


def classify(result: ScanResult, files: frozenset[str] | None = None) -> tuple[Verdict, ...]:
    """One verdict per global of the scan, in the scan's order; with `files`,
    per global declared in one of them (the call graph is still the whole tree's)."""
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
    return tuple(verdicts)
