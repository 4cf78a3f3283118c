"""Matrix expansion and the seeded round-by-round schedule."""
from __future__ import annotations

from collections import Counter

import matrix

CELLS = matrix.expand(["a", "b", "c"], [("x", ""), ("y", ""), ("y", "v")], [1, 4])


def test_expand_is_the_full_product():
    assert len(CELLS) == 3 * 3 * 2 == len(set(CELLS))
    assert {c.label for c in CELLS} == {"x", "y", "y+v"}


def test_every_cell_once_per_round():
    runs = matrix.schedule(CELLS, 5, seed=7)
    assert len(runs) == 5 * len(CELLS)
    for r in range(5):
        in_round = [run for run in runs if run.round == r]
        assert Counter(run.cell for run in in_round) == Counter(CELLS)
        assert all(run.rep == r for run in in_round)
        # rounds are contiguous: round r occupies one block of the order
        assert [run.order for run in in_round] == list(range(r * len(CELLS), (r + 1) * len(CELLS)))


def test_seeded_shuffle_reproducible_and_seed_dependent():
    a = [(r.cell, r.rep) for r in matrix.schedule(CELLS, 3, seed=11)]
    b = [(r.cell, r.rep) for r in matrix.schedule(CELLS, 3, seed=11)]
    c = [(r.cell, r.rep) for r in matrix.schedule(CELLS, 3, seed=12)]
    assert a == b and a != c
    rounds = [[r.cell for r in matrix.schedule(CELLS, 3, seed=11) if r.round == k] for k in range(3)]
    assert rounds[0] != rounds[1]  # shuffled again each round


def test_run_ids_are_unique_and_file_safe():
    runs = matrix.schedule(CELLS + [matrix.Cell("larson:small", "x", "", 1)], 2, seed=1)
    ids = [r.run_id for r in runs]
    assert len(set(ids)) == len(ids) and not any("/" in i or ":" in i for i in ids)
