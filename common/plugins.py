"""Name registries that packages extend: in-process registration or entry points.

Zoo families (``nnperf.families``) and probes (``nnperf.probes``) are looked up by name. A
name registered in the running process wins; otherwise the installed distributions' entry
points of the group are searched, so that spawned worker processes and the CLI find what
the paper packages declare without importing them by hand.
"""

from __future__ import annotations

from importlib import import_module
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


def lazy_exports(package: str, exports: dict[str, str]):
    """``(__all__, __getattr__)`` for a package whose entry points (name -> module) are
    imported on first use (PEP 562), so that importing the package stays cheap and worker
    processes that need only its zoo family do not load the rest."""

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(exports[name]), name)

    return sorted(exports), __getattr__
