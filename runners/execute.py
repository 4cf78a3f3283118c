"""One run: spawn a workload, wait for it with wait4, enforce the timeout, judge the result.

What the operating system measured (wall, user and system time, peak RSS)
comes from `os.wait4` on the child; what the workload measured comes only
from the last JSON line of its stdout, never from free text. The child gets
its own session (process group), so a timeout kills everything it started
and Ctrl-C on the runner's terminal does not reach it: the runner decides.
This module does not know about suites, rounds or result directories.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Outcome:
    """What one process did, as the OS saw it."""

    exit_code: int | None  # None when killed by a signal
    signal: str  # "SIGSEGV", ... or "" when it exited
    timed_out: bool
    wall_s: float
    user_s: float
    sys_s: float
    max_rss_kb: int | None  # KiB; None if unknown (killed before the launcher reported)
    stdout: str
    # Context switches of the command: voluntary (it waited) and involuntary
    # (the scheduler preempted it); None if unknown. The involuntary count
    # tells apart runs whose threads the scheduler placed differently.
    ctx_switches_vol: int | None = None
    ctx_switches_invol: int | None = None


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


LAUNCHER_SOURCE = Path(__file__).resolve().parent / "rusage_exec.c"


def ensure_launcher(build: Path) -> Path | None:
    """build/tools/rusage_exec, compiled from runners/rusage_exec.c if absent or older; None if it cannot be.

    Without it, peak RSS from wait4 includes the runner's own (see rusage_exec.c).
    """
    exe = build / "tools" / "rusage_exec"
    try:
        if exe.exists() and exe.stat().st_mtime >= LAUNCHER_SOURCE.stat().st_mtime:
            return exe
        exe.parent.mkdir(parents=True, exist_ok=True)
        tmp = exe.with_name(f"rusage_exec.{os.getpid()}.tmp")
        cc = os.environ.get("CC", "gcc")
        done = subprocess.run([cc, "-O2", "-o", str(tmp), str(LAUNCHER_SOURCE)], capture_output=True)
        if done.returncode != 0:
            return None
        os.replace(tmp, exe)
        return exe
    except OSError:
        return None


def spawn_and_wait(argv: list[str], env: dict[str, str], stdout_path: Path, stderr_path: Path,
                   timeout_s: float | None, launcher: Path | None = None) -> Outcome:
    """Run argv to completion with stdout/stderr in files; SIGKILL its group after timeout_s.

    With `launcher` (rusage_exec), user/sys time and peak RSS are the command's
    own as the launcher measured them (max_rss_kb is None if it was killed
    before writing them); without, they come from wait4 here. On
    KeyboardInterrupt (or any exception) while waiting, the child's process
    group is killed and reaped before the exception propagates, so no run
    outlives the runner. Raises OSError if argv[0] cannot be executed.
    """
    usage_path = Path(f"{stdout_path}.rusage.json")
    if launcher:
        usage_path.unlink(missing_ok=True)
        argv = [str(launcher), str(usage_path)] + argv
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                                start_new_session=True)
    timed_out = threading.Event()
    lock = threading.Lock()
    reaped = False

    def on_timeout() -> None:
        with lock:
            if not reaped:
                timed_out.set()
                _kill_group(proc.pid)

    timer = threading.Timer(timeout_s, on_timeout) if timeout_s else None
    if timer:
        timer.daemon = True
        timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:
        _kill_group(proc.pid)
        os.wait4(proc.pid, 0)
        proc.returncode = -9
        raise
    finally:
        with lock:
            reaped = True
        if timer:
            timer.cancel()
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    sig = ""
    if code < 0:
        try:
            sig = signal.Signals(-code).name
        except ValueError:
            sig = f"SIG{-code}"
    stdout = Path(stdout_path).read_text(errors="replace")
    user, system, rss = usage.ru_utime, usage.ru_stime, int(usage.ru_maxrss)
    vol, invol = int(usage.ru_nvcsw), int(usage.ru_nivcsw)
    if launcher:
        own = _read_usage(usage_path)
        user, system, rss = own.get("user_s", user), own.get("sys_s", system), own.get("max_rss_kb")
        vol, invol = own.get("nvcsw"), own.get("nivcsw")
    return Outcome(exit_code=code if code >= 0 else None, signal=sig, timed_out=timed_out.is_set(),
                   wall_s=wall, user_s=user, sys_s=system, max_rss_kb=rss, stdout=stdout,
                   ctx_switches_vol=vol, ctx_switches_invol=invol)


def _read_usage(path: Path) -> dict:
    try:
        value = json.loads(path.read_text())
        path.unlink()
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def parse_result_line(stdout: str) -> dict | None:
    """The workload's result: its last non-empty stdout line as a JSON object, else None."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if not line:
            continue
        try:
            value = json.loads(line)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None
    return None


def judge(outcome: Outcome, result: dict | None, identity: str) -> tuple[str, str]:
    """(status, error) of a run: ok, failed, timeout or crashed:<signal>.

    `identity` is the allocator the run must report (bench.toml `identity`);
    a run that reports another one failed, because it measured the wrong thing.
    """
    if outcome.timed_out:
        return "timeout", "killed after the time limit"
    if outcome.signal:
        return f"crashed:{outcome.signal}", f"killed by {outcome.signal}"
    if result is None:
        return "failed", f"no result line (exit code {outcome.exit_code})"
    if outcome.exit_code != 0 or result.get("status", "ok") != "ok":
        reason = result.get("error") or f"status {result.get('status')!r}"
        return "failed", f"exit code {outcome.exit_code}: {reason}"
    reported = result.get("allocator")
    if identity and reported != identity:
        return "failed", f"wrong allocator: the run reports {reported!r}, the cell expects {identity!r}"
    return "ok", ""
