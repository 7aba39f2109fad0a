"""Name registries that packages extend: in-process registration or entry points.

Zoo families (``nnperf.families``) and probes (``nnperf.probes``) are looked up by name. A
name registered in the running process wins; otherwise the installed distributions' entry
points of the group are searched, so that spawned worker processes and the CLI find what
the paper packages declare without importing them by hand.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any


def lookup(registry: dict[str, Any], group: str, name: str, what: str) -> Any:
    """`registry[name]`, loading it from entry point `group` on first use.

    Raises:
        ValueError: naming the unknown `what` and every known name.
    """
    if name not in registry:
        found = entry_points(group=group, name=name)
        if found:
            registry[name] = next(iter(found)).load()
    if name not in registry:
        known = sorted(set(registry) | {e.name for e in entry_points(group=group)})
        raise ValueError(f"unknown {what} {name!r}; known: {known}")
    return registry[name]
