#!/usr/bin/env python3
"""report.png from bench/report.py's report.json: four panels, memcached and dogpiled side by side.

    report_chart.py report.json report.png      (needs matplotlib: bench/report.py provides it)

Throughput per load (median, bars for min..max), p99 per load, bytes per item (median, min..max)
and RSS over time in the drift run. A panel whose section did not run says so.
"""

from __future__ import annotations

import csv
import json
import math
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")   # no display: files only
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

SERVERS = ("memcached", "dogpiled")
COLOURS = {"memcached": "#7f7f7f", "dogpiled": "#1f77b4"}
WIDTH = 0.38


def _empty(axes, title: str) -> None:
    axes.set_title(title)
    axes.text(0.5, 0.5, "not run", ha="center", va="center", transform=axes.transAxes)
    axes.set_xticks([])
    axes.set_yticks([])


def _short(value: float) -> str:
    """12345 -> 12.3k, 1234567 -> 1.23M: short enough to sit inside a bar."""
    for limit, suffix in ((1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def _grouped(axes, loads: list[dict], value, spread, title: str, unit: str) -> None:
    """Bars per load for both servers; `value(figures)` the bar, `spread(figures)` (low, high) or None."""
    if not loads:
        _empty(axes, title)
        return
    shown: list[float] = []
    for index, server in enumerate(SERVERS):
        xs, heights, low, high = [], [], [], []
        for position, load in enumerate(loads):
            figures = load["servers"].get(server)
            x = position + (index - 0.5) * WIDTH
            if not figures or value(figures) is None:   # e.g. memcached on the lock path
                axes.annotate("n/a", (x, 0.02), xycoords=("data", "axes fraction"), ha="center", fontsize=7)
                continue
            xs.append(x)
            heights.append(value(figures))
            bounds = spread(figures) if spread else None
            low.append(heights[-1] - bounds[0] if bounds else 0)
            high.append(bounds[1] - heights[-1] if bounds else 0)
        if xs:
            bars = axes.bar(xs, heights, WIDTH, color=COLOURS[server], yerr=[low, high] if spread else None,
                            capsize=3)
            axes.bar_label(bars, labels=[_short(h) for h in heights], fontsize=7, label_type="center",
                           color="white")
            shown += heights
    axes.set_xlim(-0.6, len(loads) - 0.4)
    names = [textwrap.fill(load["name"], 14, break_on_hyphens=False) for load in loads]
    axes.set_xticks(range(len(loads)), names, fontsize=7)
    axes.set_yscale("log")   # loads differ tenfold; every bar starts at the same power of ten
    if shown:
        axes.set_ylim(bottom=10 ** math.floor(math.log10(min(shown) * 0.8)))
    axes.set_ylabel(unit)
    axes.set_title(title)
    axes.legend(handles=[Patch(color=COLOURS[server], label=server) for server in SERVERS], fontsize=8)


def _bytes(axes, data: dict | None) -> None:
    title = "resident bytes per item (16 B key, 100 B value)"
    if not data:
        _empty(axes, title)
        return
    names = [s for s in SERVERS if s in data["servers"]]
    medians = [data["servers"][s]["median"] for s in names]
    errors = [[m - data["servers"][s]["min"] for s, m in zip(names, medians)],
              [data["servers"][s]["max"] - m for s, m in zip(names, medians)]]
    bars = axes.bar(names, medians, color=[COLOURS[s] for s in names], yerr=errors, capsize=4)
    axes.bar_label(bars, fmt="%.0f", fontsize=8)
    axes.set_ylabel("bytes per item")
    axes.set_title(f"{title}, {data['items']:,} items")


def _drift(axes, data: dict | None) -> None:
    title = "RSS under drifting item sizes"
    if not data:
        _empty(axes, title)
        return
    series: dict[str, tuple[list[float], list[float]]] = {}
    with open(data["csv"], newline="") as f:
        for row in csv.DictReader(f):
            xs, ys = series.setdefault(row["server"], ([], []))
            xs.append(float(row["seconds"]))
            ys.append(float(row["rss_mib"]))
    for server, (xs, ys) in series.items():
        axes.plot(xs, ys, marker=".", label=server, color=COLOURS.get(server))
    axes.axhline(data["memory_mb"], linestyle="--", color="black", linewidth=0.8, label=f"-m {data['memory_mb']}")
    axes.set_xlabel("seconds")
    axes.set_ylabel("VmRSS, MiB")
    axes.set_ylim(bottom=0)
    axes.set_title(f"{title} (-m {data['memory_mb']})")
    axes.legend(fontsize=8)


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    summary = json.load(open(sys.argv[1]))
    meta = summary["meta"]
    figure, panels = plt.subplots(2, 2, figsize=(14, 9))
    _grouped(panels[0][0], summary["loads"], lambda f: f["ops"]["median"],
             lambda f: (f["ops"]["min"], f["ops"]["max"]), "throughput per load (median, min..max)", "ops/s")
    _grouped(panels[0][1], summary["loads"], lambda f: f["p99_us"], None,
             "p99 latency per load (memcaslap: log2 bucket bound)", "µs")
    _bytes(panels[1][0], summary["bytes_per_item"])
    _drift(panels[1][1], summary["drift"])
    figure.suptitle(f"dogpiled {meta['dogpiled_commit']} vs {meta['memcached']}, {meta['date']}, {meta['mode']} run; "
                    f"{meta['pinning']}")
    figure.tight_layout()
    figure.savefig(sys.argv[2], dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main())
