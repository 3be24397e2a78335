"""The digest's three charts per brand as PNGs (matplotlib, Agg backend): volume per day stacked by sentiment,
share of voice, and sentiment over 8 weeks. Sized for a 600-pixel e-mail column at 2x for sharp screens."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: charts are files, in the daemon too

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from listener.digest.i18n import day, label, percent  # noqa: E402

WIDTH_PX, HEIGHT_PX, DPI = 1120, 440, 200  # shown at 560 x 220
COLOURS = {"negative": "#c8423b", "neutral": "#a3a8b0", "positive": "#2e8b57", "unscored": "#dde1e6"}
OWN, OTHER = "#1f5fa8", "#9bb4d1"


def _figure() -> tuple[Figure, Any]:
    figure = plt.figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=8)
    return figure, axes


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout(pad=0.6)
    figure.savefig(buffer, format="png", dpi=DPI)
    plt.close(figure)
    return buffer.getvalue()


def volume(section: dict[str, Any], lang: str) -> bytes:
    figure, axes = _figure()
    days = section["daily"]
    x = range(len(days))
    bottom = [0] * len(days)
    for key in ("negative", "neutral", "positive", "unscored"):
        values = [d[key] for d in days]
        if key == "unscored" and not any(values):
            continue
        axes.bar(x, values, bottom=bottom, color=COLOURS[key], label=label(lang, key), width=0.7)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_xticks(list(x), [day(d["date"], lang, "EEE d.M." if len(days) <= 14 else "d.M.") for d in days],
                    rotation=0 if len(days) <= 14 else 90)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    axes.legend(fontsize=8, frameon=False, ncols=4, loc="upper left", bbox_to_anchor=(0, 1.16))
    return _png(figure)


def share_of_voice(section: dict[str, Any], lang: str) -> bytes:
    figure, axes = _figure()
    voices = list(reversed(section["share_of_voice"]))  # own brand on top
    shares = [v["share"] or 0.0 for v in voices]
    bars = axes.barh(range(len(voices)), shares, color=[OWN if v["brand"] == section["brand"] else OTHER
                                                        for v in voices], height=0.6)
    axes.set_yticks(range(len(voices)), [v["brand"] for v in voices])
    axes.set_xlim(0, max([*shares, 0.01]) * 1.18)
    axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _: percent(v, lang)))
    for bar, share in zip(bars, shares, strict=True):
        axes.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, " " + percent(share, lang),
                  va="center", fontsize=8)
    return _png(figure)


def trend(section: dict[str, Any], lang: str) -> bytes:
    figure, axes = _figure()
    weeks = section["trend"]
    x = range(len(weeks))
    scored = [w["negative"] + w["neutral"] + w["positive"] for w in weeks]
    for key in ("positive", "negative"):
        shares = [w[key] / n if n else None for w, n in zip(weeks, scored, strict=True)]
        axes.plot(x, [float("nan") if s is None else s for s in shares], marker="o", markersize=3,
                  color=COLOURS[key], label=label(lang, key))
    axes.set_ylim(-0.02, 1.06)
    axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: percent(v, lang)))
    axes.set_xticks(list(x), [label(lang, "week_short", week=int(w["week"].split("W")[1]))
                              if "W" in w["week"] else day(w["first_day"], lang, "d.M.") for w in weeks])
    volume_axes = axes.twinx()
    volume_axes.bar(x, [w["mentions"] for w in weeks], color="#e8ebef", width=0.6, zorder=0)
    volume_axes.set_zorder(axes.get_zorder() - 1)
    axes.patch.set_visible(False)
    volume_axes.tick_params(labelsize=8, colors="#888888")
    volume_axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
    volume_axes.spines[["top"]].set_visible(False)
    axes.legend(fontsize=8, frameon=False, ncols=2, loc="upper left", bbox_to_anchor=(0, 1.16))
    return _png(figure)


CHARTS = {"volume": volume, "sov": share_of_voice, "trend": trend}
