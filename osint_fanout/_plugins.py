"""Adapter discovery through the `osint_fanout.adapters` entry-point group (the entry
points themselves remembered between runs, see _epcache.py). A run that names its
adapters (`-a dns`) loads only those: the others stay names, known but not imported."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from ._adapter import Adapter, metadata_problems
from ._epcache import entry_points
from ._redact import one_line

__all__ = ["ENTRY_POINT_GROUP", "Registry", "discover"]

ENTRY_POINT_GROUP = "osint_fanout.adapters"


@dataclass
class Registry:
    adapters: dict[str, type[Adapter[Any]]] = field(default_factory=dict)
    """Loaded adapter classes by name, sorted by name."""
    failed: dict[str, str] = field(default_factory=dict)
    """Entry-point names that failed to load, with the reason."""
    origins: dict[str, str] = field(default_factory=dict)
    """The distribution that provides each adapter."""
    unloaded: set[str] = field(default_factory=set)
    """Installed adapters that this run did not ask for, and so did not import."""

    def names(self) -> list[str]:
        """Every installed adapter's name that may be asked for (loaded or not)."""
        return sorted({*self.adapters, *self.unloaded})


def discover(only: Collection[str] | None = None) -> Registry:
    """Load the adapter plugins (with `only`, just those names); one that fails is
    recorded in `failed`, not raised."""
    from importlib.metadata import EntryPoint

    registry = Registry()
    found: dict[str, type[Adapter[Any]]] = {}
    for name, value, origin in entry_points(ENTRY_POINT_GROUP):
        if only is not None and name not in only:
            registry.unloaded.add(name)
            continue
        try:
            cls = EntryPoint(name, value, ENTRY_POINT_GROUP).load()
        except Exception as exc:  # a broken plugin must not stop the others
            registry.failed[name] = one_line(f"{type(exc).__name__}: {exc}")
            continue
        problems = metadata_problems(cls)
        if not problems and cls.name != name:
            problems = [f"its name is {cls.name!r} but its entry point is {name!r}"]
        if not problems and name in found:
            problems = [f"{registry.origins[name]} already provides an adapter of that name"]
        if problems:
            registry.failed[name] = one_line("; ".join(problems))
            continue
        found[name] = cls
        registry.origins[name] = origin
    registry.adapters = dict(sorted(found.items()))
    registry.unloaded -= set(found) | set(registry.failed)  # another entry point of that name loaded
    return registry
