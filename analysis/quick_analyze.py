#!/usr/bin/python3
"""Print the results table of one or more result directories, or compare two.

    quick_analyze.py results/<run> [more dirs or runs files] [--baseline mimalloc] [--format text|markdown|csv]
    quick_analyze.py --compare OLD NEW [--fail-on-regression PCT]
    quick_analyze.py results/<run> --focus hakmem [--rss-bar 1.10]

The table has one row per workload, thread count and allocator (variants
included): the median throughput (ops/s, or ns/op for latency workloads) over
the ok repetitions, its 95 % bootstrap confidence interval, the speed ratio to
the baseline (> 1 = faster) and the median peak RSS and its ratio (< 1 =
leaner), each ratio marked * when the intervals do not overlap and ~ when they
do. Below it: geometric means of the ratios, wins and losses, and every
failed, crashed or timed-out run. Several directories are pooled.

With --focus LABEL the table is one allocator against every other instead:
per workload and thread count, LABEL's speed over each allocator's, its RSS
over the baseline's, and whether the cell meets the bar (level with or
faster than every allocator, RSS at most --rss-bar x the baseline's, no
failed run).

Exit status: 0; 1 with --fail-on-regression when a significant slowdown
exceeds PCT percent (or a cell newly fails); 2 on bad input.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compare  # noqa: E402
import focus  # noqa: E402
import results  # noqa: E402
import table  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="quick_analyze.py",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 2)[2] + "\nStatistics: median; 95% CI by percentile bootstrap (fixed seed); "
        "--compare uses a two-sided\nMann-Whitney U test per cell at alpha 0.05.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="result directory, or its runs.jsonl / runs.csv")
    p.add_argument("--baseline", default="mimalloc", help="allocator label the ratios are against (default: mimalloc)")
    p.add_argument("--format", choices=table.FORMATS, default="text", help="output format (default: text)")
    p.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"), help="compare two result directories cell by cell")
    p.add_argument("--fail-on-regression", type=float, metavar="PCT",
                   help="with --compare: exit 1 when a significant slowdown exceeds PCT percent")
    p.add_argument("--focus", metavar="LABEL", help="one allocator against every other, with the bar per cell")
    p.add_argument("--rss-bar", type=float, default=focus.DEFAULT_RSS_BAR, metavar="X",
                   help=f"with --focus: largest peak RSS allowed, as a multiple of the baseline's "
                        f"(default: {focus.DEFAULT_RSS_BAR:.2f})")
    args = p.parse_args(argv)
    if args.focus and args.compare:
        p.error("--focus works on a result directory, not with --compare")
    if args.rss_bar <= 0:
        p.error(f"--rss-bar must be a positive multiple of the baseline's RSS, not {args.rss_bar:g}")
    if args.compare and args.paths:
        p.error("give either PATH... or --compare OLD NEW, not both")
    if not args.compare and not args.paths:
        p.error("give a result directory (e.g. results/reference) or --compare OLD NEW")
    if args.fail_on_regression is not None and not args.compare:
        p.error("--fail-on-regression needs --compare OLD NEW")
    return args


def run_table(args: argparse.Namespace) -> int:
    rs = results.load(args.paths)
    cells = table.summarise(rs.runs, args.baseline)
    title = "hakmem-bench results: " + rs.identity()
    title += "".join(f"\nmade by: {cmd}" for cmd in rs.commands())
    title += "".join(f"\n{line}" for line in rs.variant_builds())
    if args.focus:
        h2h = focus.head_to_head(cells, args.focus, args.baseline, args.rss_bar)
        sys.stdout.write(focus.render(h2h, args.focus, args.baseline, args.rss_bar, args.format, title,
                                      rs.runs))
        return 0
    sys.stdout.write(table.render(cells, rs.runs, args.baseline, args.format, title))
    return 0


def run_compare(args: argparse.Namespace) -> int:
    old, new = (results.load([p]) for p in args.compare)
    diff = compare.compare(old.runs, new.runs)
    sys.stdout.write(compare.render(diff, old.identity(), new.identity(), args.format))
    if args.fail_on_regression is None:
        return 0
    bad = compare.regressions(diff, args.fail_on_regression)
    out = sys.stderr if args.format == "csv" else sys.stdout
    if bad.empty:
        print(f"\nno significant slowdown beyond {args.fail_on_regression:g}%.", file=out)
        return 0
    print(f"\nREGRESSION: {len(bad)} cell(s) slowed down significantly by more than "
          f"{args.fail_on_regression:g}% or newly fail:", file=out)
    for _, r in bad.iterrows():
        what = r["state"] if r["state"] != "compared" else f"{r['change'] * 100:+.1f}% (p={r['p']:.4f})"
        print(f"  {r['workload']} {r['threads']}T {r['label']}: {what}", file=out)
    return 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run_compare(args) if args.compare else run_table(args)
    except results.ResultsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
