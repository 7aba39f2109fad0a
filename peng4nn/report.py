"""What the peng4nn chapter shows on its page: tables that put the paper's numbers beside
ours (at our scale). The computations stay in `peng4nn.experiments`."""

from __future__ import annotations

import pandas as pd

from peng4nn.experiments import PAPER, throughput_gain, top_sets


def summary(tables: dict[str, pd.DataFrame], scale: str) -> pd.DataFrame:
    """What held: each claim of Sec. IV with the paper's number and ours (and our scale)."""
    rows = []
    for name, t in tables.items():
        top = top_sets(t)
        rows += [
            {
                "dataset": name,
                "claim": "mean epochs saved vs MENNDL (%)",
                "paper": PAPER["mean_epochs_saved_percent"].get(name, "61–82"),
                "ours": round(t["epochs_saved_percent"].mean(), 1),
            },
            {
                "dataset": name,
                "claim": "throughput gain (×)",
                "paper": PAPER["throughput_gain"].get(name, "2.5–5"),
                "ours": round(throughput_gain(t), 2),
            },
            {
                "dataset": name,
                "claim": "top 10/20/30 % overlap",
                "paper": "0.74–0.97",
                "ours": " / ".join(f"{v:.2f}" for v in top["overlap"]),
            },
            {
                "dataset": name,
                "claim": "top-set mean accuracy gap (points)",
                "paper": "0.2–0.83",
                "ours": " / ".join(f"{v:.2f}" for v in top["gap_points"]),
            },
        ]
    out = pd.DataFrame(rows)
    out["our scale"] = scale
    return out


def headlines(overlap: pd.DataFrame, saved: pd.DataFrame, ceiling: float, where: str) -> list:
    """The chapter's two headline claims as `common.scaling.headline` rows: the top-20 %
    overlap against the lowest of Table IV (with our noise ceiling), and the mean epochs
    saved against the paper's lowest mean (SVHN)."""
    from common import scaling

    paper_saved = min(PAPER["mean_epochs_saved_percent"].values())
    return [
        scaling.headline(
            overlap,
            PAPER["overlap_range"][0],
            ceiling,
            "top-20 % overlap",
            where,
            unit="networks",
            setting="lowest of Table IV, 290–505 networks",
        ),
        scaling.headline(
            saved,
            paper_saved,
            None,
            "mean epochs saved vs MENNDL (%)",
            where,
            unit="e_max",
            setting="lowest mean: SVHN, e_max 20",
        ),
    ]
