"""The history store: every result recorded, for `history`, `diff`, `--changes` and the
`--max-age` cache. SQLite by default, PostgreSQL to share it; see the README's "History".

Importing this package is cheap: each part loads on first use (the URL rules at once), the
database layer with the first store opened.

    from osint_fanout.store import StoreSink, open_store, changes
    sink = StoreSink(url)                       # a Sink: results committed within ~1 s
    ...                                         # after the run: sink.failed -> exit code 3
    with open_store(url) as store:
        hit = store.cached("example.com", "dns", max_age_s=3600)
        before = store.previous("example.com", before=run_started)   # adapter -> StoredResult

    cache = StoreCache(url)                     # the engine's --max-age cache (a thread of its own)
    hit = await cache.cached(target, "dns", 3600, until=deadline)    # a Result with cached_at, or None
    watch = ChangesSink(url, destination, facts_from(adapters))      # search --changes: events as NDJSON
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._url import STORE_ENV, StoreUrlError, check_url, choose_url, default_url, display_url

if TYPE_CHECKING:
    from ._cache import StoreCache
    from ._changes import (
        COMPARABLE,
        AssetChange,
        ChangeEvent,
        FactsFn,
        FirstSeen,
        Observation,
        ScalarChange,
        SetChange,
        changes,
        data_hash,
        facts_from,
        target_changes,
    )
    from ._db import Store
    from ._ledger import StoreLedger
    from ._records import StoredResult, StoreError
    from ._sink import StoreSink
    from ._watch import ChangesSink

_HOMES = {
    **dict.fromkeys(
        [
            "COMPARABLE",
            "AssetChange",
            "ChangeEvent",
            "FactsFn",
            "FirstSeen",
            "Observation",
            "ScalarChange",
            "SetChange",
            "changes",
            "data_hash",
            "facts_from",
            "target_changes",
        ],
        "._changes",
    ),
    "StoredResult": "._records",
    "StoreError": "._records",
    "StoreSink": "._sink",
    "StoreCache": "._cache",
    "StoreLedger": "._ledger",
    "ChangesSink": "._watch",
    "Store": "._db",
}
"""Loaded on first use: `search` needs only the URL rules (and the sink) at start-up."""

__all__ = [
    "COMPARABLE",
    "STORE_ENV",
    "AssetChange",
    "ChangeEvent",
    "ChangesSink",
    "FactsFn",
    "FirstSeen",
    "Observation",
    "ScalarChange",
    "SetChange",
    "Store",
    "StoreCache",
    "StoreError",
    "StoreLedger",
    "StoreSink",
    "StoreUrlError",
    "StoredResult",
    "changes",
    "check_url",
    "choose_url",
    "data_hash",
    "default_url",
    "display_url",
    "facts_from",
    "open_store",
    "target_changes",
]


def open_store(url: str, *, create: bool = True, read_only: bool = False) -> Store:
    """Open (creating and migrating as needed) the store at `url`; StoreError if it cannot
    be used. `create=False`: an SQLite file that does not exist is an error, not a new store;
    `read_only`: for a reader, an SQLite store it may not write is opened read-only."""
    from ._db import Store

    return Store(url, create=create, read_only=read_only)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'osint_fanout.store' has no attribute {name!r}")
    return getattr(import_module(home, __name__), name)
