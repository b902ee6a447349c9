"""Figures of time-to-result suites: pure functions, data in, `matplotlib.figure.Figure` out.

Same rules as `leaderboard.plot_style`: object API on an Agg canvas, the Okabe–Ito palette,
and every method also has its own line style (and marker), so nothing is carried by colour
alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from leaderboard.plot_style import OKABE_ITO, new_figure

# Black last: it is kept for reference lines (targets, budgets).
_COLOURS = [OKABE_ITO[k] for k in ("blue", "orange", "bluish_green", "vermillion",
                                   "reddish_purple", "sky_blue", "yellow")]
_STYLES = ["-", "--", "-.", ":"]
_MARKERS = ["o", "s", "^", "D", "v", "P", "X"]


def method_style(index: int) -> tuple[str, str, str]:
    """(colour, line style, marker) of the `index`-th method; distinct for 28 methods."""
    return (_COLOURS[index % len(_COLOURS)], _STYLES[(index // len(_COLOURS)) % len(_STYLES)],
            _MARKERS[index % len(_MARKERS)])


def plot_performance_profile(
    labels: Sequence[str], taus: Sequence[float], profile: Sequence[Sequence[float]],
    ci_lows: Sequence[Sequence[float]], ci_highs: Sequence[Sequence[float]], *,
    width_in: float = 6.4,
) -> Figure:
    """ρ_s(τ) per method as a step line with its bootstrap band; τ on [1, max τ].

    `profile`, `ci_lows`, `ci_highs`: shape (num_methods, num_taus) fractions of workloads.
    """
    figure = new_figure(width_in, 4.0)
    axes = figure.add_subplot()
    tau = np.asarray(taus, dtype=float)
    for i, label in enumerate(labels):
        colour, style, marker = method_style(i)
        axes.fill_between(tau, ci_lows[i], ci_highs[i], step="post", color=colour, alpha=0.18,
                          linewidth=0)
        axes.step(tau, profile[i], where="post", color=colour, linestyle=style, linewidth=2,
                  label=label, marker=marker, markevery=max(1, len(tau) // 6), markersize=5)
    axes.set_xlim(tau[0], tau[-1])
    axes.set_ylim(-0.02, 1.02)
    axes.set_xlabel("τ: time within a factor τ of the fastest submission")
    axes.set_ylabel("fraction of workloads ρ(τ)")
    axes.grid(color="#dddddd", linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.legend(loc="lower right", frameon=False, fontsize="small")
    return figure


def plot_eval_curves(
    labels: Sequence[str], trials: Sequence[Sequence[tuple[Sequence[float], Sequence[float]]]],
    *, target: float | None, max_runtime_s: float | None, title: str,
    metric_label: str = "validation accuracy", width_in: float = 6.4,
) -> Figure:
    """A validation metric against submission time, one line per trial, one colour and line
    style per method (`trials[i]` holds method i's (times_s, values) pairs).

    The target, when known, is a dashed black line; the runtime budget a dotted one.
    """
    figure = new_figure(width_in, 3.8)
    axes = figure.add_subplot()
    handles = []
    for i, label in enumerate(labels):
        colour, style, marker = method_style(i)
        for times, accuracy in trials[i]:
            axes.plot(times, accuracy, color=colour, linestyle=style, linewidth=1.4, alpha=0.85,
                      marker=marker, markersize=3, markevery=max(1, len(times) // 5))
        handles.append(Line2D([], [], color=colour, linestyle=style, marker=marker,
                              label=f"{label} ({len(trials[i])} trials)"))
    if target is not None:
        axes.axhline(target, color=OKABE_ITO["black"], linestyle="--", linewidth=1)
        handles.append(Line2D([], [], color=OKABE_ITO["black"], linestyle="--",
                              label=f"target {target:g}"))
    if max_runtime_s is not None:
        axes.axvline(max_runtime_s, color=OKABE_ITO["black"], linestyle=":", linewidth=1)
        handles.append(Line2D([], [], color=OKABE_ITO["black"], linestyle=":",
                              label=f"budget {max_runtime_s:g} s"))
    axes.set_xlabel("submission time (s)")
    axes.set_ylabel(metric_label)
    axes.set_title(title)
    axes.grid(color="#dddddd", linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.legend(handles=handles, loc="best", frameon=False, fontsize="small")
    return figure


def plot_time_to_target(
    workloads: Sequence[str], labels: Sequence[str], medians: Sequence[Sequence[float | None]],
    ci_lows: Sequence[Sequence[float | None]], ci_highs: Sequence[Sequence[float | None]], *,
    width_in: float = 6.4,
) -> Figure:
    """Time to target per workload (one panel each, stacked): per method the median over
    studies with its interval; a missed target (None or inf) is an "×" at the right edge,
    labelled, so a miss never reads as a fast time. Arrays: (num_methods, num_workloads)."""
    figure = new_figure(width_in, (0.3 * len(labels) + 0.7) * len(workloads) + 0.6)
    panels = figure.subplots(len(workloads), 1, sharex=True, squeeze=False)[:, 0]
    finite = [float(v) for row in (*medians, *ci_highs) for v in row
              if v is not None and np.isfinite(v)]
    right = 1.15 * max(finite, default=1.0)
    positions = np.arange(len(labels))[::-1]
    for w, (axes, workload) in enumerate(zip(panels, workloads, strict=True)):
        for i, y in enumerate(positions):
            colour, _, marker = method_style(i)
            median = medians[i][w]
            if median is None or not np.isfinite(median):
                axes.plot([right], [y], marker="x", color=colour, markersize=8, clip_on=False)
                axes.annotate("not reached", (right, y), xytext=(-6, 0),
                              textcoords="offset points", ha="right", va="center",
                              fontsize="x-small", color=colour)
                continue
            low, high = ci_lows[i][w], ci_highs[i][w]
            if low is not None and high is not None:
                axes.hlines(y, low, min(high, right), colors=colour, linewidth=2.5)
            axes.plot([median], [y], marker=marker, color=colour, markersize=7,
                      linestyle="none")
        axes.set_yticks(positions, labels=list(labels), fontsize="small")
        axes.set_ylim(-0.7, len(labels) - 0.3)
        axes.set_title(workload, fontsize="small", loc="left")
        axes.grid(axis="x", color="#dddddd", linewidth=0.8)
        axes.set_axisbelow(True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
    panels[-1].set_xlim(0, right * 1.02)
    panels[-1].set_xlabel("time to target (s of submission time): median over studies")
    return figure
