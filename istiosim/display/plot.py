"""Plots (matplotlib, the ``plot`` extra, imported on first use). Each takes ``ax=None`` and
returns the Axes it drew on, titled and labelled, readable in a notebook and in a saved PNG."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .frames import require
from .objects import wilson

_OBSERVED = "#1f77b4"
_TARGET = "#d62728"
_BAND = "#2ca02c"


def _axes(ax: Any, size: tuple[float, float] = (6.4, 3.6)) -> Any:
    if ax is not None:
        return ax
    require("matplotlib", "plot")
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def split(
    arms: Sequence[str],
    observed: Sequence[float],
    low: Sequence[float] | None = None,
    high: Sequence[float] | None = None,
    *,
    expected: Sequence[float] | None = None,
    tolerance: float | None = None,
    title: str = "",
    level: float = 0.95,
    ax: Any = None,
) -> Any:
    """Observed shares with their interval bars (``level``: the intervals' confidence).

    With ``expected`` shares, each arm is drawn as its deviation from its configured share in
    percentage points (the red line at 0 is the configured weight, the green band ± the
    tolerance), so a 1-point miss shows on an 80/20 split as well as on a 50/50 one; the tick
    labels carry the configured shares. Without, the shares themselves are drawn.
    """
    ax = _axes(ax)
    x = list(range(len(arms)))
    base = list(expected) if expected is not None else [0.0] * len(arms)
    scale = 100.0 if expected is not None else 1.0
    ys = [scale * (o - b) for o, b in zip(observed, base, strict=True)]
    yerr = None
    if low is not None and high is not None:
        yerr = [
            [scale * max(0.0, o - lo) for o, lo in zip(observed, low, strict=True)],
            [scale * max(0.0, hi - o) for o, hi in zip(observed, high, strict=True)],
        ]
    if expected is not None and tolerance is not None:
        ax.axhspan(
            -100 * tolerance,
            100 * tolerance,
            color=_BAND,
            alpha=0.2,
            lw=0,
            label=f"allowed band (±{100 * tolerance:g} pp)",
        )
    if expected is not None:
        ax.axhline(0.0, color=_TARGET, lw=2, label="configured weight")
    ax.errorbar(
        x,
        ys,
        yerr=yerr,
        fmt="o",
        color=_OBSERVED,
        capsize=6,
        ms=7,
        label=f"observed share ({100 * level:g}% CI)" if yerr is not None else "observed share",
    )
    if expected is not None:
        ax.set_xticks(
            x, [f"{a}\n(configured {100 * e:.4g}%)" for a, e in zip(arms, expected, strict=True)]
        )
        span = [y - (yerr[0][i] if yerr else 0) for i, y in enumerate(ys)]
        span += [y + (yerr[1][i] if yerr else 0) for i, y in enumerate(ys)]
        span += [0.0] + ([-100 * tolerance, 100 * tolerance] if tolerance else [])
        lo, hi = min(span), max(span)
        pad = max(0.15 * (hi - lo), 0.1)
        ax.set_ylim(lo - pad, hi + pad)
        ax.yaxis.set_major_formatter(_pp())
        ax.set_ylabel("observed − configured share")
    else:
        ax.set_xticks(x, [str(a) for a in arms])
        ax.set_ylim(0, min(1.0, max([*(high or observed)]) * 1.15 + 0.02))
        ax.yaxis.set_major_formatter(_percent())
        ax.set_ylabel("share of requests")
    ax.set_xlim(-0.6, len(arms) - 0.4)
    ax.set_xlabel("destination")
    ax.set_title(title or "observed split vs configured weights")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return ax


def _pp() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: f"{v:+.3g} pp" if v else "0")


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0)


def plot_stats(result: Any, *, ax: Any = None) -> Any:
    """A split test, equivalence test or intervals result as :func:`split`."""
    arms = list(result.arms)
    n = sum(result.observed)
    observed = [c / n if n else 0.0 for c in result.observed]
    ci = getattr(result, "ci", None)
    if ci is None and hasattr(result, "low"):
        ci = result
    low = list(ci.low) if ci is not None else None
    high = list(ci.high) if ci is not None else None
    weights = getattr(result, "weights", None)
    expected = None
    if weights is not None:
        total = sum(weights)
        expected = [w / total for w in weights]
    tol = getattr(result, "tolerance", None)
    verdict = getattr(result, "verdict", None)
    title = f"n = {n:,}" + (f": {verdict}" if verdict else "")
    level = ci.confidence_level if ci is not None else 0.95
    return split(
        arms,
        observed,
        low,
        high,
        expected=expected,
        tolerance=tol,
        title=title,
        level=level,
        ax=ax,
    )


def plot_shares(
    res: Any, by: str = "subset", *, ax: Any = None, weights: Mapping[str, float] | None = None
) -> Any:
    """A SimulationResult's shares by one field, with 95% Wilson intervals (sampled) and the
    configured ``weights`` (a mapping, e.g. ``{"v2": 50, "v3": 50}``) as targets."""
    shares = res.shares(by)
    counts = res.counts(by)
    keys = sorted(shares, key=lambda k: (k is None, str(k)))
    arms = ["(none)" if k is None else str(k) for k in keys]
    observed = [shares[k] for k in keys]
    low = high = None
    if not res.exact:
        ivs = [wilson(counts[k], res.n) for k in keys]
        low, high = [a for a, _ in ivs], [b for _, b in ivs]
    expected = None
    if weights is not None:
        total = sum(weights.values())
        expected = [weights.get(a, 0) / total for a in arms]
    ax = split(
        arms,
        observed,
        low,
        high,
        expected=expected,
        title=f"{res.n:,} requests ({res.mode}) by {by}",
        ax=ax,
    )
    ax.set_xlabel(by)
    return ax


def fallthrough(res: Any, *, ax: Any = None) -> Any:
    """Which rule catches which share of each request class (needs ``simulate(keep=True)``
    or ``mode="exact"`` per class): one horizontal stacked bar per class."""
    from ..errors import InvalidArgument

    pr = res.per_request
    if pr is None:
        raise InvalidArgument(
            "fallthrough() needs the per-request arrays: simulate(..., keep=True)"
        )
    np = require("numpy", "plot")
    ax = _axes(ax, (7.0, 0.9 + 0.6 * len(res.classes)))
    rules = pr.rule
    hosts = pr.host
    labels = (
        [
            "no rule" if int(r) < 0 else f"{str(h).split('.')[0]} rule {int(r)}"
            for r, h in zip(rules, hosts, strict=True)
        ]
        if len(rules) <= 200_000
        else None
    )
    if labels is None:
        labels = [("no rule" if int(r) < 0 else f"rule {int(r)}") for r in rules]
    names = sorted(set(labels), key=lambda s: (s == "no rule", s))
    cls = np.asarray(pr.cls)
    idx = {n: i for i, n in enumerate(names)}
    lab = np.array([idx[x] for x in labels])
    table = np.zeros((len(res.classes), len(names)))
    np.add.at(table, (cls.astype(int), lab), 1)
    shares = table / np.maximum(table.sum(axis=1, keepdims=True), 1)
    y = list(range(len(res.classes)))
    left = np.zeros(len(res.classes))
    cmap = _colors(len(names))
    for j, name in enumerate(names):
        ax.barh(y, shares[:, j], left=left, color=cmap[j], label=name, edgecolor="white")
        for i in y:
            if shares[i, j] >= 0.08:
                ax.text(
                    left[i] + shares[i, j] / 2,
                    i,
                    f"{shares[i, j]:.0%}",
                    ha="center",
                    va="center",
                    color="white",
                    fontsize="small",
                )
        left += shares[:, j]
    ax.set_yticks(y, list(res.classes))
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(_percent())
    ax.set_xlabel("share of the class's requests")
    ax.set_ylabel("request class")
    ax.set_title("which rule catches each request class")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", title="matched")
    return ax


def _colors(n: int) -> list[Any]:
    import matplotlib as mpl

    cmap = mpl.colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def before_after(
    arms: Sequence[str],
    before: Sequence[float],
    after: Sequence[float],
    *,
    labels: tuple[str, str] = ("before", "after"),
    title: str = "",
    ax: Any = None,
) -> Any:
    """Shares per destination before and after a change, side by side (for a diff's result)."""
    ax = _axes(ax)
    x = list(range(len(arms)))
    ax.bar([i - 0.2 for i in x], list(before), 0.4, label=labels[0], color="#999999")
    ax.bar([i + 0.2 for i in x], list(after), 0.4, label=labels[1], color=_OBSERVED)
    ax.set_xticks(x, [str(a) for a in arms])
    ax.yaxis.set_major_formatter(_percent())
    ax.set_ylim(0, 1)
    ax.set_xlabel("destination")
    ax.set_ylabel("share of requests")
    ax.set_title(title or "shares before and after the change")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return ax


def steps(
    names: Sequence[str],
    shares: Mapping[str, Sequence[float]],
    *,
    unverifiable: Sequence[bool] | None = None,
    title: str = "",
    ax: Any = None,
) -> Any:
    """The share of each destination at each step of a rollout plan (stacked bars), the steps
    that cannot be verified in time hatched and marked (for a rollout plan's result)."""
    ax = _axes(ax, (7.0, 3.6))
    x = list(range(len(names)))
    bottom = [0.0] * len(names)
    colors = _colors(len(shares))
    for (dest, values), color in zip(shares.items(), colors, strict=True):
        ax.bar(x, list(values), bottom=bottom, color=color, label=str(dest), edgecolor="white")
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    marked = False
    for i, bad in enumerate(unverifiable or ()):
        if bad:
            label = "too few requests to verify the split" if not marked else None
            ax.bar([i], [1.0], fill=False, hatch="//", edgecolor=_TARGET, lw=0, label=label)
            marked = True
            ax.text(
                i,
                1.02,
                "not verifiable\nin time",
                ha="center",
                va="bottom",
                color=_TARGET,
                fontsize="x-small",
            )
    ax.set_xticks(x, [str(n) for n in names])
    ax.set_ylim(0, 1.15)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.yaxis.set_major_formatter(_percent())
    ax.set_xlabel("rollout step")
    ax.set_ylabel("share of requests")
    ax.set_title(title or "shares per rollout step")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return ax


__all__ = ["before_after", "fallthrough", "plot_shares", "plot_stats", "split", "steps"]
