"""A fixed-seed fuzz run over real units of the pinned 3.13.5 tree (ci/fuzz runs longer ones)."""
from __future__ import annotations

import pytest

from tests.fuzz.mutate import describe, fuzz
from tests.integration.conftest import tree_path

SEED = 20250601
MUTANTS = 240
UNIT_TIMEOUT = 20.0      # the heavy mutants (a FIFO gcc waits on) run into it: it must become CG906


@pytest.mark.realtree
def test_every_mutant_keeps_the_scan_contract(tmp_path):
    tree = tree_path("3.13.5")
    outcomes = fuzz(tree, tmp_path, SEED, MUTANTS, jobs=2, unit_count=30, unit_timeout=UNIT_TIMEOUT)
    assert len(outcomes) == MUTANTS
    failures = [describe(o) for o in outcomes if o.problems]
    assert not failures, "\n".join(failures)
    assert {o.status for o in outcomes} == {0, 3}        # the mutants do break units, and not all of them
