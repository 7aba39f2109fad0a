"""The three scales every experiment takes (``smoke``, ``book``, ``paper``; DESIGN.md): the
lookups each package's settings table shares. A table maps scale -> dataset -> settings."""

from __future__ import annotations

from dataclasses import fields, replace

from common import data
from common.zoospec import is_whole


def settings(table: dict, dataset: str, scale: str, **overrides):
    """The settings of `dataset` at `scale`, with any field of them replaced by a keyword
    that is not None (the chapters' ``n_networks`` and ``epochs`` parameters); ValueError
    listing what the table knows, or naming an unknown or invalid override."""
    key = entry(table, dataset, scale)
    if key is None:
        known = {s: sorted(d) for s, d in table.items()}
        raise ValueError(f"no {scale!r} settings for {dataset!r}; known: {known}")
    return override(table[scale][key], **overrides)


def entry(table: dict, dataset: str, scale: str) -> str | None:
    """The key of `dataset`'s settings at `scale`: its own name when the table has it (a
    subset a scale is defined on, such as ``"cifar10_16@6500"``), else its dataset's (a
    subset such as ``"cifar10@512"`` has the settings of ``"cifar10"``); None when neither."""
    row = table.get(scale, {})
    for key in (str(dataset), data.base_name(dataset)):
        if key in row:
            return key
    return None


def override(settings, **overrides):
    """`settings` (a dataclass) with the given non-None fields replaced, checked: counts
    (``n_*``) must be positive integers and epochs positive."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if not given:
        return settings
    known = {f.name for f in fields(settings)}
    unknown = set(given) - known
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}; expected some of {sorted(known)}")
    for name, value in given.items():  # counts (n_networks, n_architectures, ...) and epochs
        if name.startswith("n_") and not (is_whole(value) and value > 0):
            raise ValueError(f"{name}={value!r}: expected an integer > 0")
        if name.endswith("epochs") and not value > 0:
            raise ValueError(f"{name}={value!r}: expected a number > 0")
    return replace(settings, **given)


def datasets(table: dict, scale: str, root=None) -> list[str]:
    """The scale's datasets present under the data root (the rest are logged and skipped),
    so a scale's notebook runs offline on what this machine has; `MissingDatasetsError`
    naming them and where they go when none is present."""
    if scale not in table:
        raise ValueError(f"unknown scale {scale!r}; expected one of {sorted(table)}")
    wanted = list(table[scale])
    found = data.present(wanted, root)
    if not found:
        raise MissingDatasetsError(
            f"none of the {scale!r} scale's datasets ({', '.join(wanted)}) is under the data "
            f"root {data.data_root(root)}: put one there (the README's 'Data' section says "
            "how; NNPERF_DATA names the folder), or run the chapter at scale 'book' (digits, "
            "bundled)"
        )
    return found


class MissingDatasetsError(FileNotFoundError):
    """None of a scale's datasets is under the data root (and none could be downloaded)."""
