"""Progress of a suite: one updating line on a terminal, one line per run otherwise.

On a terminal the line shows runs done/total, the current cell, elapsed time
and an estimate of the time left; in CI or a pipe every finished run prints
one line (so a log shows each status). Output goes to the given stream
(stdout by default); it never affects what is recorded.
"""
from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class Progress:
    """Reports `start(label)` / `done(label, status)` for `total` runs."""

    def __init__(self, total: int, stream: TextIO | None = None, tty: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.total, self.finished = total, 0
        self.t0 = self.t_runs = time.monotonic()
        self.width = 0

    def runs_begin(self) -> None:
        """Warm-ups are over: the ETA counts from here."""
        self.t_runs = time.monotonic()

    def _times(self) -> str:
        now = time.monotonic()
        elapsed, per_run = now - self.t0, (now - self.t_runs) / max(self.finished, 1)
        eta = "?" if not self.finished else _clock(per_run * (self.total - self.finished))
        return f"elapsed {_clock(elapsed)}, ETA {eta}"

    def _line(self, text: str) -> None:
        pad = max(0, self.width - len(text))
        self.stream.write("\r" + text + " " * pad)
        self.width = len(text)
        self.stream.flush()

    def start(self, label: str) -> None:
        if self.tty:
            self._line(f"[{self.finished}/{self.total}] {label} ... {self._times()}")

    def done(self, label: str, status: str, detail: str = "") -> None:
        self.finished += 1
        if self.tty:
            self._line(f"[{self.finished}/{self.total}] {label} {status} {self._times()}")
        else:
            extra = f" {detail}" if detail else ""
            print(f"[{self.finished}/{self.total}] {label} {status}{extra} ({self._times()})",
                  file=self.stream, flush=True)

    def message(self, text: str) -> None:
        """A line that must stay visible (warnings): ends the updating line first."""
        self.close()
        print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty and self.width:
            self.stream.write("\n")
            self.stream.flush()
            self.width = 0
