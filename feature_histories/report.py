"""What the feature_histories chapter shows on its page: tables that put the paper's numbers beside
ours (at our scale). The computations stay in `feature_histories.experiments`."""

from __future__ import annotations

import pandas as pd

from feature_histories.experiments import PAPER


def summary(
    reached: dict, overheads: dict, errors: pd.DataFrame, searches: pd.DataFrame, scale: str
) -> pd.DataFrame:
    """What held: each claim with the paper's number and ours (and our scale)."""
    last = errors[errors.epoch == errors.epoch.min()].set_index("estimate")["Kendall tau"]
    gain = searches.pivot(index="search", columns="proxy", values="accuracy %")
    rows = [
        {
            "claim": "the ensemble reaches the final accuracy sooner",
            "paper": PAPER["fig2"],
            "ours": f"original at epoch {reached['original']:g}, ensemble at "
            f"{reached['ensemble']:g} ({reached['speed-up']:.2f}×)",
        },
        {
            "claim": "proxy overhead per epoch",
            "paper": "< 0.5 epoch",
            "ours": f"{overheads['proxy / epoch']:.2f} epoch",
        },
        {
            "claim": "first-epoch ranking: ensemble vs original (τ)",
            "paper": "ensemble higher",
            "ours": f"{last['ensemble']:.2f} vs {last['original']:.2f}",
        },
        {
            "claim": "search with the proxy finds better networks",
            "paper": "+0.1 to +0.4 pts",
            "ours": ", ".join(
                f"{k}: {gain.loc[k, True] - gain.loc[k, False]:+.2f} pts" for k in gain.index
            ),
        },
    ]
    out = pd.DataFrame(rows)
    out["our scale"] = scale
    return out
