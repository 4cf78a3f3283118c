"""The figures' shared look: fixed allocator colours, the caption line, saving.

Colours are fixed per allocator across every figure: a base allocator has
its own colour; a variant (``hakmem+learn1``) is a lighter or darker shade of
its base, the shade chosen by a checksum of the variant's name, so a label
keeps its colour whichever other labels a figure shows. An allocator not
listed here gets a colour from a spare list, also by checksum.
"""
from __future__ import annotations

import sys
import zlib
from pathlib import Path

import matplotlib

if "ipykernel" not in sys.modules:  # a notebook keeps its inline backend
    matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

BASE_COLOURS = {
    "system": "#7f7f7f",    # grey: glibc
    "mimalloc": "#1f77b4",  # blue: the baseline
    "jemalloc": "#2ca02c",  # green
    "tcmalloc": "#9467bd",  # purple
    "hakmem": "#d62728",    # red: this project's allocator
}
SPARE_COLOURS = ["#ff7f0e", "#8c564b", "#e377c2", "#bcbd22", "#17becf"]
# (mix, towards): variant shades, mixing the base colour with white or black.
SHADES = [(0.45, "white"), (0.40, "black"), (0.70, "white"), (0.65, "black"), (0.25, "white"), (0.20, "black")]
HATCHES = ["//", "\\\\", "..", "xx", "oo", "++"]
FORMATS = ("png", "pdf")


def _checksum(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def colour(label: str) -> str:
    """The fixed colour of an allocator label ('hakmem', 'hakmem+learn1')."""
    base, _, variant = label.partition("+")
    rgb = BASE_COLOURS.get(base) or SPARE_COLOURS[_checksum(base) % len(SPARE_COLOURS)]
    if not variant:
        return rgb
    mix, towards = SHADES[_checksum(variant) % len(SHADES)]
    a, b = mcolors.to_rgb(rgb), mcolors.to_rgb(towards)
    return mcolors.to_hex(tuple((1 - mix) * x + mix * y for x, y in zip(a, b)))


def hatch(label: str) -> str | None:
    """Bars of a variant also carry a hatch pattern (None for a base
    allocator), chosen like its shade, so variants stay apart in print."""
    _, _, variant = label.partition("+")
    return HATCHES[_checksum(variant) % len(HATCHES)] if variant else None


def linestyle(label: str) -> str:
    """Lines of a variant are dashed; a base allocator's are solid."""
    return "--" if "+" in label else "-"


def hatch_colour(label: str) -> str:
    """The colour of a variant's hatch lines: its own colour, darkened."""
    rgb = mcolors.to_rgb(colour(label))
    return mcolors.to_hex(tuple(0.55 * x for x in rgb))


def bar_style(label: str) -> dict:
    """Keyword arguments for a bar of `label`: colour, and for a variant its hatch."""
    style = {"facecolor": colour(label), "linewidth": 0}
    if hatch(label):
        style.update(hatch=hatch(label), edgecolor=hatch_colour(label))
    return style


def legend_handles(labels: list[str]) -> list[Patch]:
    return [Patch(label=lbl, **bar_style(lbl)) for lbl in labels]


def new_figure(n_panels: int, ncols: int, panel_w: float = 4.2, panel_h: float = 3.0,
               sharey: bool = False) -> tuple[Figure, list]:
    """A figure with n_panels axes in a grid of ncols columns (unused axes hidden)."""
    ncols = max(1, min(ncols, n_panels))
    nrows = -(-n_panels // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_w * ncols, panel_h * nrows + 0.6),
                             squeeze=False, sharey=sharey)
    flat = list(axes.flat)
    for ax in flat[n_panels:]:
        ax.set_visible(False)
    return fig, flat[:n_panels]


def finish(fig: Figure, title: str, caption: str, labels: list[str] | None = None) -> Figure:
    """Title, the allocator legend (when labels are given) and the caption
    line (the result directory's identity) below the panels."""
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.04, 0.86 if labels else 1, 0.97))
    if labels:
        fig.legend(handles=legend_handles(labels), loc="upper left", bbox_to_anchor=(0.865, 0.93),
                   fontsize=8, title="allocator", title_fontsize=8, frameon=False)
    fig.text(0.005, 0.005, caption, fontsize=7, ha="left", va="bottom", color="#444444", wrap=True)
    return fig


def save(fig: Figure, outdir: Path, name: str) -> list[Path]:
    """Write name.png and name.pdf under outdir; close the figure."""
    outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in FORMATS:
        path = outdir / f"{name}.{fmt}"
        fig.savefig(path, dpi=150, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths
