"""Scaling curves for a chapter's headline claim (issue 14, item 5): the paper's metric
against the number of training networks, with confidence intervals over splits, the paper's
point and our noise ceiling on the same axes, and a verdict read from the curve.

A chapter supplies ``measure(n, seed) -> value`` (its own computation at `n` training
networks and split `seed`); `curve` evaluates it on a grid, `summary` gives the mean and a
95 % Student-t interval over seeds per size, and `verdict` says:

- ``holds``: the interval at the largest size reaches the paper's value;
- ``trend toward the paper's value``: it does not, but the metric improves with the
  training set (a least-squares line of the value against log size, over every split, has
  a slope of the right sign with p < 0.05);
- ``does not hold``: neither.

The verdict also says when the paper's value lies above our noise ceiling: no predictor can
reach it on our zoo, whatever the training-set size. With fewer than `MIN_SPLITS` splits
there is no verdict.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

HOLDS, TREND, FAILS = "holds", "trend toward the paper's value", "does not hold"
MIN_SPLITS = 3  # below this the interval says nothing (t with 1 degree of freedom is 12.7)


def curve(measure: Callable[[int, int], float], sizes: Sequence[int], seeds: Sequence[int]):
    """``measure(n, seed)`` for every training-set size and seed: columns size, seed, value."""
    if not sizes or not seeds:
        raise ValueError("need at least one training-set size and one seed")
    rows = [
        {"size": int(n), "seed": int(s), "value": float(measure(int(n), int(s)))}
        for n in sorted(sizes)
        for s in seeds
    ]
    return pd.DataFrame(rows)


def summary(points: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per size: mean, standard deviation, and the `level` Student-t interval of the mean
    over seeds (lo = hi = mean with a single seed)."""
    out = []
    for size, group in points.groupby("size"):
        values = group["value"].to_numpy(dtype=float)
        mean, n = values.mean(), len(values)
        sd = values.std(ddof=1) if n > 1 else 0.0
        half = stats.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n) if n > 1 else 0.0
        out.append(
            {
                "size": size,
                "mean": mean,
                "sd": sd,
                "lo": mean - half,
                "hi": mean + half,
                "splits": n,
            }
        )
    return pd.DataFrame(out)


def verdict(
    points: pd.DataFrame,
    paper: float,
    ceiling: float | None = None,
    higher_is_better: bool = True,
    trend: bool = True,
) -> str:
    """`HOLDS`, `TREND` or `FAILS` (see the module), with a note when `paper` lies beyond
    our noise `ceiling`. With ``trend=False`` (a curve over draws of the same networks, whose
    mean does not change with the draw's size) only `HOLDS` or `FAILS`."""
    table = summary(points)
    sign = 1.0 if higher_is_better else -1.0
    last = table.iloc[-1]
    if last["splits"] < MIN_SPLITS:
        return f"too few splits to judge ({int(last['splits'])}; at least {MIN_SPLITS})"
    reaches = last["hi"] >= paper if higher_is_better else last["lo"] <= paper
    rises = False
    if trend and len(table) > 1:
        fit = stats.linregress(np.log(points["size"]), points["value"])
        rises = sign * fit.slope > 0 and fit.pvalue < 0.05
    text = HOLDS if reaches else TREND if rises else FAILS
    if ceiling is not None and sign * (paper - ceiling) > 0:
        text += f" (the paper's {paper:.3g} is beyond our noise ceiling {ceiling:.3g})"
    return text


def plot(
    points: pd.DataFrame,
    paper: float,
    ceiling: float | None,
    metric: str,
    paper_label: str = "paper",
    ax=None,
    xlabel: str = "training networks",
    log_x: bool = True,
):
    """The curve (mean and interval over splits), the paper's value and our ceiling, against
    `xlabel` (the training networks by default; a method that learns from none is drawn
    against what it does vary with, e.g. the networks searched or the epoch budget)."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(5.5, 3.4))[1]
    table = summary(points)
    ax.plot(table["size"], table["mean"], marker="o", color="black", label="ours (mean)")
    ax.fill_between(
        table["size"],
        table["lo"],
        table["hi"],
        color="grey",
        alpha=0.3,
        label="95 % interval over splits",
    )
    ax.axhline(paper, color="tab:red", ls="--", label=paper_label)
    if ceiling is not None:
        ax.axhline(ceiling, color="tab:blue", ls=":", label="our noise ceiling")
    drawn = table["mean"].notna().any()  # a tiny run may leave every point undefined (NaN)
    ax.set(xscale="log" if log_x and drawn else "linear", xlabel=xlabel, ylabel=metric)
    ax.legend(fontsize=8)
    return ax


def headline(
    points: pd.DataFrame,
    paper: float,
    ceiling: float | None,
    claim: str,
    scale: str,
    higher_is_better: bool = True,
    unit: str = "training networks",
    setting: str = "",
    trend: bool = True,
) -> pd.DataFrame:
    """A chapter's headline claim as one row of its "what held" table: the paper's value
    (and `setting`), ours at the largest size with its 95 % interval over splits, our noise
    ceiling and the verdict read from the curve (`verdict`)."""
    last = summary(points).iloc[-1]
    row = {
        "claim": claim,
        "paper": f"{paper:.3g}" + (f" ({setting})" if setting else ""),
        "ours": f"{last['mean']:.3g} [{last['lo']:.3g}, {last['hi']:.3g}]"
        f" at {last['size']:g} {unit}",
        "our scale": scale,
        "noise ceiling": "-" if ceiling is None else f"{ceiling:.3g}",
        "verdict": verdict(points, paper, ceiling, higher_is_better, trend),
    }
    return pd.DataFrame([row])


CLAIMS_KEY = "claims_rows"  # the glue key `common.book.scoreboard` reads
CLAIM_COLUMNS = ("claim", "paper", "ours", "our scale", "noise ceiling", "verdict")


def record(*headlines: pd.DataFrame) -> None:
    """Glue a chapter's headline rows (`headline`) into its notebook, without showing them:
    as ``claims`` (a table the chapter's opening pastes with a ``{glue} claims`` directive)
    and as JSON under `CLAIMS_KEY`, which `nnperf book` reads from the executed notebook for
    its claims scoreboard. Call it in a cell tagged ``remove-input``."""
    from myst_nb import glue

    table = pd.concat(headlines, ignore_index=True)[list(CLAIM_COLUMNS)].astype(str)
    glue("claims", table.style.hide(axis="index"), display=False)
    glue(CLAIMS_KEY, json.dumps(table.to_dict("records")), display=False)


def with_headlines(table: pd.DataFrame, *headlines: pd.DataFrame) -> pd.DataFrame:
    """A chapter's summary `table` with its headline rows (`headline`) first; the other
    claims, which have no curve, get no verdict ("-")."""
    out = pd.concat([*headlines, table], ignore_index=True)
    return out.fillna("-")
