"""Store URLs: which database, said without importing the database layer (so settings
can be checked at start-up for free), and shown without its password."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = ["STORE_ENV", "StoreUrlError", "check_url", "choose_url", "default_url", "display_url", "sqlite_path"]

STORE_ENV = "OSINT_FANOUT_STORE"
_SQLITE = "sqlite:///"
_POSTGRES = ("postgresql", "postgresql+psycopg", "postgres")
_HOW = "give sqlite:///path/to/file.db or postgresql://user@host/db"


class StoreUrlError(ValueError):
    """Not a store URL we can use; the message is one line saying what would be."""


def default_url() -> str:
    """An SQLite file in the user data directory (Linux: ~/.local/share/osint-fanout/)."""
    from platformdirs import user_data_path

    return f"{_SQLITE}{user_data_path('osint-fanout', appauthor=False) / 'store.db'}"


def check_url(url: str) -> str:
    """The URL as SQLAlchemy takes it (postgresql:// means psycopg 3); StoreUrlError if unusable."""
    text = url.strip()
    if text.startswith(_SQLITE):
        path = text[len(_SQLITE) :]
        if not path or path == ":memory:" or "?" in path:
            raise StoreUrlError(f"store {display_url(text)}: needs a file path ({_HOW})")
        return text
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in _POSTGRES:
        raise StoreUrlError(f"store {display_url(text)!r} is not a store URL: {_HOW}")
    return f"postgresql+psycopg://{rest}"  # no host: the local server's socket, as libpq does


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite store URL (relative paths are from the working directory), else None."""
    return Path(url[len(_SQLITE) :]) if url.startswith(_SQLITE) else None


def password(url: str) -> str | None:
    """The password in a PostgreSQL URL, to be scrubbed from every message."""
    if url.startswith(_SQLITE):
        return None
    found = urlsplit(url).password
    return unquote(found) if found else None


def display_url(url: str) -> str:
    """The URL with any password shown as ***."""
    if url.startswith(_SQLITE) or "://" not in url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def choose_url(
    flag: str | None,
    *,
    no_store: bool = False,
    configured: str | None = None,
    enabled: bool = True,
    env: Mapping[str, str] = os.environ,
) -> str | None:
    """The store to use, checked: --no-store, then --store, then $OSINT_FANOUT_STORE, then
    `[store] url`, else the default file; None when the store is off (--no-store, or
    `[store] enabled = false` with no --store)."""
    if no_store:
        return None
    if flag:
        return check_url(flag)
    if not enabled:
        return None
    chosen = env.get(STORE_ENV) or configured
    return check_url(chosen) if chosen else default_url()
