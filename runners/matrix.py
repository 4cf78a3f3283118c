"""The run matrix: cells (workload x allocator+variant x threads) and their schedule.

A cell is everything that defines a measurement except the repetition. The
schedule runs round by round: round r holds repetition r of every cell once,
in an order shuffled by `random.Random(seed)` (one generator, shuffled once
per round), so the same seed always gives the same schedule. That is what
makes a resumed suite run exactly the missing (cell, rep) pairs in their
original places. This module only computes; it runs nothing.
"""
from __future__ import annotations

import random
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Cell:
    workload: str
    allocator: str  # the base allocator of bench.toml
    variant: str  # "" for none
    threads: int

    @property
    def label(self) -> str:
        """`allocator` or `allocator+variant`: the matrix column."""
        return f"{self.allocator}+{self.variant}" if self.variant else self.allocator

    @property
    def key(self) -> str:
        """A file-name-safe identifier of the cell."""
        return f"{self.workload}.{self.label}.t{self.threads}".replace(":", "-").replace("/", "-")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Run:
    """One scheduled run: a cell, its repetition, its round and global order."""

    cell: Cell
    rep: int
    round: int
    order: int  # position in the whole schedule, 0-based

    @property
    def run_id(self) -> str:
        return f"{self.order:05d}-{self.cell.key}.r{self.rep}"


def expand(workloads: list[str], columns: list[tuple[str, str]], threads: list[int]) -> list[Cell]:
    """Every cell of workloads x columns (allocator, variant) x threads, in a fixed order."""
    return [Cell(w, a, v, t) for w in workloads for (a, v) in columns for t in threads]


def schedule(cells: list[Cell], reps: int, seed: int) -> list[Run]:
    """Round-by-round schedule: each round every cell once, shuffled with a seeded generator."""
    rng = random.Random(seed)
    runs: list[Run] = []
    for r in range(reps):
        order = list(cells)
        rng.shuffle(order)
        for cell in order:
            runs.append(Run(cell, r, r, len(runs)))
    return runs


def pair_key(workload: str, label: str, threads: int, rep: int) -> tuple[str, str, int, int]:
    """The identity of a (cell, rep) pair, as stored in a row; used by RESUME."""
    return (str(workload), str(label), int(threads), int(rep))
