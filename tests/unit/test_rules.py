"""The rule table's own invariants."""
from __future__ import annotations

import pytest

from analyzer.classify.facts import GlobalFacts
from analyzer.classify.rules import RULES
from analyzer.cpython.families import DECIDED_BY_TYPE
from analyzer.model import Family, GlobalVar, Storage


def facts(family: Family) -> GlobalFacts:
    var = GlobalVar(file="Objects/x.c", func=None, name="x", line=1, type="T", storage=Storage.STATIC,
                    thread_local=False, const=False, has_initializer=False, macro=None, family=family)
    return GlobalFacts(var=var, extension=False, writes=(), readied=(), escapes=(), readers=(),
                       callback_readers=(), lazy=False)


def test_rule_ids_are_unique_and_namespaced_by_class():
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    assert all(rule.id.split(".")[0] == rule.state_class.value for rule in RULES)


@pytest.mark.parametrize("family", sorted(DECIDED_BY_TYPE, key=lambda f: f.value), ids=lambda f: f.value)
def test_families_decided_by_type_need_no_write_sites(family):
    """parse skips bodies for these families' sake: a rule before any rule
    that reads write sites must decide them."""
    order = [rule.id for rule in RULES]
    deciding = next(rule for rule in RULES if rule.match(facts(family)) is not None)
    assert order.index(deciding.id) < order.index("immutable.never-written")


def test_the_last_rule_always_matches():
    assert RULES[-1].match(facts(Family.SCALAR)) is not None


def test_every_rule_has_a_fixture():
    from tests.conftest import all_fixtures, class_expectations
    covered = {rule for fixture in all_fixtures() for _, rule in class_expectations(fixture).values()}
    assert covered == {rule.id for rule in RULES}
