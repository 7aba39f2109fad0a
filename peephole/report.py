"""What the peephole chapter shows on its page: tables that put the paper's numbers beside
ours (at our scale). The computations stay in `peephole.experiments`."""

from __future__ import annotations

import pandas as pd

from common import zoo
from peephole.experiments import PAPER, PAPER_NAME, paper_table
from peephole.experiments import paper_dataset as paper_dataset_of


def table2(train_zoo: zoo.Zoo, val_zoo: zoo.Zoo, paper_dataset: str = "cifar10"):
    """Statistics of the final validation accuracies (Table 2), the paper's on
    `paper_dataset` beside ours (the same columns whatever the dataset, so that the tables
    of several datasets stack without empty cells)."""
    columns = {}
    for name, z in (("train", train_zoo), ("validation", val_zoo)):
        acc = z.target("final_val_acc")
        columns[f"ours ({name})"] = [len(acc), acc.mean(), acc.std(), acc.min(), acc.max()]
        columns[f"paper ({name})"] = PAPER["table2"][paper_dataset][name]
    return pd.DataFrame(columns, index=["Size", "Mean", "Std", "Min", "Max"])


def table2s(splits: dict) -> pd.DataFrame:
    """`table2` of each dataset's (train, held-out) split in `splits`, stacked, with the
    paper's dataset that stands beside ours in the index."""
    parts = {
        (d, paper_dataset_of(d)): table2(*halves, paper_dataset_of(d))
        for d, halves in splits.items()
    }
    return pd.concat(parts, names=["ours", "paper's", "statistic"])


def summary(tables: dict[str, pd.DataFrame], transfer: pd.DataFrame | None, scale: str):
    """What held: each claim of Sec. 5 with the paper's number and ours (and our scale)."""
    rows = []
    for dataset, t in tables.items():
        ours, paper = t.set_index("method"), paper_table(dataset)
        for other in ours.index.drop("Peephole"):
            for col, k in (("Tau", 1), ("R2", 2), ("MSE", 0)):
                theirs = paper["Peephole"][k], paper[PAPER_NAME.get(other, other)][k]
                rows.append(
                    {
                        "dataset": dataset,
                        "claim": f"Peephole vs {other}: {col}",
                        "paper": f"{theirs[0]:.4f} vs {theirs[1]:.4f}",
                        "ours": f"{ours.loc['Peephole', col]:.4f} vs {ours.loc[other, col]:.4f}",
                    }
                )
    if transfer is not None:
        acc = transfer.set_index("network").iloc[:, -1]
        rows.append(
            {
                "dataset": acc.name.removeprefix("test accuracy on "),
                "claim": "selected network vs VGG-style (accuracy)",
                "paper": "71.91 % vs 71.55 % (ImageNet top-1)",
                "ours": f"{acc.iloc[0]:.4f} vs {acc.loc['VGG-style']:.4f}",
            }
        )
    out = pd.DataFrame(rows)
    out["our scale"] = scale
    return out
