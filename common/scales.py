"""The three scales every experiment takes (``smoke``, ``book``, ``paper``; DESIGN.md): the
lookups each package's settings table shares. A table maps scale -> dataset -> settings."""

from __future__ import annotations

from common import data


def settings(table: dict, dataset: str, scale: str):
    """The settings of `dataset` at `scale`; ValueError listing what the table knows."""
    if scale not in table or dataset not in table[scale]:
        known = {s: sorted(d) for s, d in table.items()}
        raise ValueError(f"no {scale!r} settings for {dataset!r}; known: {known}")
    return table[scale][dataset]


def datasets(table: dict, scale: str, root=None) -> list[str]:
    """The scale's datasets present under the data root (the rest are logged and skipped),
    so a scale's notebook runs offline on what this machine has."""
    if scale not in table:
        raise ValueError(f"unknown scale {scale!r}; expected one of {sorted(table)}")
    return data.present(list(table[scale]), root)
