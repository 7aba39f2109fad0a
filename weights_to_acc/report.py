"""What the weights_to_acc chapter shows on its page: tables that put the paper's numbers beside
ours (at our scale). The computations stay in `weights_to_acc.experiments`."""

from __future__ import annotations

import numpy as np
import pandas as pd


def summary(
    gbm: pd.DataFrame,
    table1: pd.DataFrame,
    transfer: pd.DataFrame,
    width: pd.DataFrame | None,
    scale: str,
) -> pd.DataFrame:
    """What held: each claim of Sec. 4–5 with the paper's number and ours (and our scale)."""
    best = gbm.idxmax()
    by_kind = table1.groupby("predictor").R2.max()
    off = transfer.to_numpy()[~np.eye(len(transfer), dtype=bool)]
    rows = [
        {
            "claim": "W̃_L is the best GBM input",
            "paper": "yes, on all 4 (0.984–0.993)",
            "ours": ", ".join(f"{d}: {b} ({gbm.loc[b, d]:.3f})" for d, b in best.items()),
        },
        {
            "claim": "GBM ≥ DNN ≫ logit-linear (best R²)",
            "paper": "0.984 / 0.980 / 0.727",
            "ours": " / ".join(
                f"{by_kind.get(k, np.nan):.3f}" for k in ("gbm", "dnn", "logit_linear")
            ),
        },
        {
            "claim": "transfer across datasets (τ off the diagonal)",
            "paper": "0.60–0.93",
            "ours": f"{off.min():.2f}–{off.max():.2f}" if off.size else "one dataset only",
        },
    ]
    if width is not None:
        rows.append(
            {
                "claim": "ranks wider networks (τ vs test)",
                "paper": "0.28–0.59",
                "ours": " / ".join(f"{v:.2f}" for v in width.loc["predictions vs test"]),
            }
        )
    out = pd.DataFrame(rows)
    out["our scale"] = scale
    return out
