"""Load and validate bench.toml: allocators, workloads, suites, variants, Larson profiles.

This module is the one reader of bench.toml. The Makefile uses its command
line (`python3 runners/bench_config.py --make CONFIG`) to learn which
allocators and programs to build; the suite runner imports `load()`.

Every problem is a ConfigError whose message names the file, the line and
the key (`bench.toml:12: workloads.mixed: unknown key 'arg' ...`), so that a
user can go straight to it. Nothing here runs a program. Standard library only.
"""
from __future__ import annotations

import argparse
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(Exception):
    """A bench.toml problem, with a message that names the file, line and key."""


@dataclass
class Allocator:
    name: str
    link: str = ""
    preload: str = ""
    package: str = ""
    version_package: str = ""
    identity: str = ""
    description: str = ""
    built_here: bool = False
    bindir: str = ""  # where its programs live; default build/<name>
    stats_env: str = ""  # variable naming the statistics file the runner asks for
    trace_env: str = ""  # variable naming the learner trace file the runner asks for


@dataclass
class Workload:
    name: str
    program: str
    args: list[str] = field(default_factory=list)
    length: str = "ops"
    metric: str = "ops_per_sec"
    description: str = ""
    thread_token: str = ""  # not a bench.toml key: Larson profiles put T in args


@dataclass
class Suite:
    name: str
    workloads: list[str]
    threads: list[int] = field(default_factory=lambda: [1])
    reps: int = 0  # 0: the [defaults] value
    runtime: float = 1.0  # seconds, for workloads with length = "seconds"
    timeout_s: float = 0  # 0: the [defaults] value
    args: dict[str, list[str]] = field(default_factory=dict)
    variants: list[str] = field(default_factory=list)
    description: str = ""


@dataclass
class Variant:
    name: str
    allocator: str
    env: dict[str, str] = field(default_factory=dict)
    preload: str = ""
    build: str = ""        # the make command that makes `preload`, when `make all` does not
    revision_file: str = ""  # a file `build` writes: the commit `preload` was built from
    description: str = ""


@dataclass
class LarsonProfile:
    name: str
    args: str
    description: str = ""


@dataclass
class Config:
    path: Path
    root: Path
    text: str
    defaults: dict
    allocators: dict[str, Allocator]
    workloads: dict[str, Workload]
    suites: dict[str, Suite]
    variants: dict[str, Variant]
    larson_profiles: dict[str, LarsonProfile]

    def programs(self) -> list[str]:
        """Distinct workload programs, in declaration order."""
        seen: list[str] = []
        for w in self.workloads.values():
            if w.program not in seen:
                seen.append(w.program)
        return seen


# --------------------------------------------------------------------------
# Schema: for each section, key -> (accepted python types, required).
# --------------------------------------------------------------------------

_STR, _BOOL, _LIST, _TABLE = (str,), (bool,), (list,), (dict,)
_NUM = (int, float)

SCHEMA: dict[str, dict[str, tuple[tuple[type, ...], bool]]] = {
    "defaults": {"baseline": (_STR, False), "suite": (_STR, False), "reps": ((int,), False),
                 "timeout_s": (_NUM, False)},
    "allocators": {"link": (_STR, False), "preload": (_STR, False), "package": (_STR, False),
                   "version_package": (_STR, False), "identity": (_STR, False),
                   "description": (_STR, False), "built_here": (_BOOL, False),
                   "bindir": (_STR, False), "stats_env": (_STR, False),
                   "trace_env": (_STR, False)},
    "workloads": {"program": (_STR, True), "args": (_LIST, False), "length": (_STR, False),
                  "metric": (_STR, False), "description": (_STR, False)},
    "suites": {"workloads": (_LIST, True), "threads": (_LIST, False), "reps": ((int,), False),
               "runtime": (_NUM, False), "timeout_s": (_NUM, False), "args": (_TABLE, False),
               "variants": (_LIST, False), "description": (_STR, False)},
    "variants": {"allocator": (_STR, True), "env": (_TABLE, False), "preload": (_STR, False),
                 "build": (_STR, False), "revision_file": (_STR, False), "description": (_STR, False)},
    "larson_profiles": {"args": (_STR, True), "description": (_STR, False)},
}
TOP_LEVEL = set(SCHEMA)
LENGTHS = ("ops", "seconds")
METRICS = ("ops_per_sec", "ns_per_op")


class _Locator:
    """Finds the line of a table or key in the TOML text (1-based; 0 if unknown)."""

    _HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'. ]+?)\s*=")

    def __init__(self, text: str) -> None:
        self.entries: list[tuple[int, str, str]] = []  # (line, table, dotted key or "")
        table = ""
        for i, line in enumerate(text.splitlines(), 1):
            m = self._HEADER.match(line)
            if m:
                table = self._norm(m.group(1))
                self.entries.append((i, table, ""))
                continue
            m = self._KEY.match(line)
            if m:
                self.entries.append((i, table, self._norm(m.group(1))))

    @staticmethod
    def _norm(dotted: str) -> str:
        return ".".join(p.strip().strip("\"'") for p in dotted.split("."))

    def line(self, *path: str) -> int:
        """Line of the longest prefix of `path` (table.sub.key) that can be found."""
        want = ".".join(path)
        for n in range(len(path), 0, -1):
            want = ".".join(path[:n])
            for line, table, key in self.entries:
                full = f"{table}.{key}" if table and key else (table or key)
                if full == want:
                    return line
        return 0


def _malformed(path: Path, text: str, err: tomllib.TOMLDecodeError) -> ConfigError:
    """Turn tomllib's message '... (at line L, column C)' into 'file:L: ...'."""
    msg = str(err)
    lines = text.splitlines()
    m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
    if m:
        line, reason, column = int(m.group(1)), msg[:m.start()].strip(), f" (column {m.group(2)})"
    elif "(at end of document)" in msg:  # e.g. an unclosed list: the last key is the culprit
        line = next((i for i in range(len(lines), 0, -1) if "=" in lines[i - 1]), len(lines))
        reason, column = msg.replace("(at end of document)", "at the end of the file").strip(), ""
    else:
        return ConfigError(f"{path}: malformed TOML: {msg}; fix the syntax")
    src = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    key = re.match(r"\s*([A-Za-z0-9_\-.\"']+)\s*=", src)
    where = f" in key '{key.group(1)}'" if key else (f" in '{src}'" if src else "")
    return ConfigError(f"{path}:{line}: malformed TOML{where}: {reason}{column}; fix the syntax")


class _Checker:
    """Validates the parsed document section by section, raising ConfigError."""

    def __init__(self, path: Path, text: str, data: dict) -> None:
        self.path, self.data, self.loc = path, data, _Locator(text)

    def fail(self, where: tuple[str, ...], message: str) -> ConfigError:
        return ConfigError(f"{self.path}:{self.loc.line(*where)}: {'.'.join(where)}: {message}")

    def section(self, name: str) -> dict:
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            raise self.fail((name,), "must be a table")
        return value

    def top_level(self) -> None:
        for key in self.data:
            if key not in TOP_LEVEL:
                raise self.fail((key,), f"unknown key '{key}' (known: {', '.join(sorted(TOP_LEVEL))})")

    def row(self, section: str, name: str, row: object) -> dict:
        """Check one entry's keys and value types against SCHEMA[section]."""
        where = (section, name) if name else (section,)
        if not isinstance(row, dict):
            raise self.fail(where, "must be a table")
        schema = SCHEMA[section]
        for key, value in row.items():
            if key not in schema:
                raise self.fail(where + (key,), f"unknown key '{key}' (known: {', '.join(sorted(schema))})")
            types, _ = schema[key]
            if isinstance(value, bool) and bool not in types:
                types = ()
            if not isinstance(value, types):
                kind = {str: "a string", bool: "true or false", list: "a list", dict: "a table",
                        int: "a number"}[types[0]] if types else "not a boolean"
                raise self.fail(where + (key,), f"'{key}' must be {kind}")
        for key, (_, required) in schema.items():
            if required and key not in row:
                raise self.fail(where, f"missing key '{key}'")
        return row

    def strings(self, where: tuple[str, ...], value: list) -> list[str]:
        if not all(isinstance(v, str) for v in value):
            raise self.fail(where, f"'{where[-1]}' must be a list of strings")
        return list(value)

    def names(self, where: tuple[str, ...], value: list, known: dict, what: str) -> list[str]:
        for v in self.strings(where, value):
            if v not in known:
                raise self.fail(where, f"unknown {what} '{v}' (known: {', '.join(known)})")
        return list(value)

    def one_of(self, where: tuple[str, ...], value: str, allowed: tuple[str, ...]) -> str:
        if value not in allowed:
            raise self.fail(where, f"'{value}' is not one of {', '.join(allowed)}")
        return value


def load(path: str | Path) -> Config:
    """Parse and validate a bench.toml. Raises ConfigError naming file:line: key."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the configuration file ({e.strerror}); "
                          "give an existing bench.toml with CONFIG=") from e
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise _malformed(path, text, e) from e

    c = _Checker(path, text, data)
    c.top_level()
    defaults = c.row("defaults", "", c.section("defaults"))

    allocators = {name: Allocator(name=name, **c.row("allocators", name, row))
                  for name, row in c.section("allocators").items()}

    workloads: dict[str, Workload] = {}
    for name, row in c.section("workloads").items():
        w = Workload(name=name, **c.row("workloads", name, row))
        w.args = c.strings(("workloads", name, "args"), w.args)
        c.one_of(("workloads", name, "length"), w.length, LENGTHS)
        c.one_of(("workloads", name, "metric"), w.metric, METRICS)
        workloads[name] = w

    variants: dict[str, Variant] = {}
    for name, row in c.section("variants").items():
        v = Variant(name=name, **c.row("variants", name, row))
        if v.allocator not in allocators:
            raise c.fail(("variants", name, "allocator"),
                         f"unknown allocator '{v.allocator}' (known: {', '.join(allocators)})")
        for key, value in v.env.items():
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise c.fail(("variants", name, "env"), f"env value of '{key}' must be a string")
        v.env = {k: str(val) for k, val in v.env.items()}
        variants[name] = v

    suites: dict[str, Suite] = {}
    for name, row in c.section("suites").items():
        s = Suite(name=name, **c.row("suites", name, row))
        c.names(("suites", name, "workloads"), s.workloads, workloads, "workload")
        if not s.threads or not all(isinstance(t, int) and not isinstance(t, bool) and t > 0
                                    for t in s.threads):
            raise c.fail(("suites", name, "threads"), "'threads' must be a list of positive integers")
        c.names(("suites", name, "variants"), s.variants, variants, "variant")
        for wname, args in s.args.items():
            if wname not in workloads:
                raise c.fail(("suites", name, "args", wname),
                             f"unknown workload '{wname}' (known: {', '.join(workloads)})")
            if not isinstance(args, list):
                raise c.fail(("suites", name, "args", wname), f"'{wname}' must be a list of strings")
            c.strings(("suites", name, "args", wname), args)
        suites[name] = s

    profiles = {name: LarsonProfile(name=name, **c.row("larson_profiles", name, row))
                for name, row in c.section("larson_profiles").items()}

    if "suite" in defaults and defaults["suite"] not in suites:
        raise c.fail(("defaults", "suite"),
                     f"unknown suite '{defaults['suite']}' (known: {', '.join(suites)})")
    if "baseline" in defaults and defaults["baseline"] not in allocators:
        raise c.fail(("defaults", "baseline"),
                     f"unknown allocator '{defaults['baseline']}' (known: {', '.join(allocators)})")

    return Config(path=path, root=path.resolve().parent, text=text, defaults=defaults,
                  allocators=allocators, workloads=workloads, suites=suites, variants=variants,
                  larson_profiles=profiles)


def make_vars(cfg: Config) -> str:
    """Make variable assignments that tell the Makefile what to build."""
    lines = [
        f"BENCH_ALLOCATORS := {' '.join(cfg.allocators)}",
        f"BENCH_PROGRAMS := {' '.join(cfg.programs())}",
    ]
    for a in cfg.allocators.values():
        lines.append(f"LINK_{a.name} := {a.link}")
        lines.append(f"BUILT_HERE_{a.name} := {'yes' if a.built_here else ''}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", nargs="?", default="bench.toml", help="path of bench.toml")
    ap.add_argument("--make", action="store_true", help="print make variable assignments")
    args = ap.parse_args(argv)
    try:
        cfg = load(args.config)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.make:
        sys.stdout.write(make_vars(cfg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
