"""Load and validate bench.toml: allocators, workloads, suites, variants, Larson profiles.

This module is the one reader of bench.toml. The Makefile uses its command
line (`python3 runners/bench_config.py --make CONFIG`) to learn which
allocators and programs to build; the suite runner imports `load()`.
Standard library only.
"""
from __future__ import annotations

import argparse
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


@dataclass
class Workload:
    name: str
    program: str
    args: list[str] = field(default_factory=list)
    length: str = "ops"
    metric: str = "ops_per_sec"
    description: str = ""


@dataclass
class Config:
    path: Path
    root: Path
    defaults: dict
    allocators: dict[str, Allocator]
    workloads: dict[str, Workload]
    suites: dict[str, dict]
    variants: dict[str, dict]
    larson_profiles: dict[str, dict]

    def programs(self) -> list[str]:
        """Distinct workload programs, in declaration order."""
        seen: list[str] = []
        for w in self.workloads.values():
            if w.program not in seen:
                seen.append(w.program)
        return seen


def _line_of(text: str, key: str) -> int:
    """Best-effort line number of `key` in the TOML text (1-based, 0 if unknown)."""
    for i, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith(key) or stripped.startswith(f"[{key}") or f".{key}]" in stripped:
            return i
    return 0


def _table(path: Path, text: str, data: dict, name: str) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}:{_line_of(text, name)}: key '{name}' must be a table")
    return value


def load(path: str | Path) -> Config:
    """Parse and validate a bench.toml. Raises ConfigError with file:line: key."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the configuration file ({e.strerror})") from e
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: malformed TOML: {e}") from e

    allocators: dict[str, Allocator] = {}
    for name, row in _table(path, text, data, "allocators").items():
        if not isinstance(row, dict):
            raise ConfigError(f"{path}:{_line_of(text, name)}: allocators.{name} must be a table")
        known = set(Allocator.__dataclass_fields__) - {"name"}
        for key in row:
            if key not in known:
                raise ConfigError(
                    f"{path}:{_line_of(text, key)}: allocators.{name}: unknown key '{key}' "
                    f"(known: {', '.join(sorted(known))})")
        allocators[name] = Allocator(name=name, **row)

    workloads: dict[str, Workload] = {}
    for name, row in _table(path, text, data, "workloads").items():
        if not isinstance(row, dict) or "program" not in row:
            raise ConfigError(f"{path}:{_line_of(text, name)}: workloads.{name}: missing key 'program'")
        known = set(Workload.__dataclass_fields__) - {"name"}
        for key in row:
            if key not in known:
                raise ConfigError(
                    f"{path}:{_line_of(text, key)}: workloads.{name}: unknown key '{key}' "
                    f"(known: {', '.join(sorted(known))})")
        workloads[name] = Workload(name=name, **row)

    return Config(
        path=path,
        root=path.resolve().parent,
        defaults=_table(path, text, data, "defaults"),
        allocators=allocators,
        workloads=workloads,
        suites=_table(path, text, data, "suites"),
        variants=_table(path, text, data, "variants"),
        larson_profiles=_table(path, text, data, "larson_profiles"),
    )


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
