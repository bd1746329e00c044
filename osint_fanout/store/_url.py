"""Store URLs: which database, and shown without its password.

A PostgreSQL URL is read by SQLAlchemy's own `make_url`, the parser the database layer
connects with: the password it will use (from the user part, or a `?password=` query
parameter) is exactly what is masked and registered for redaction. An SQLite URL is read
without importing SQLAlchemy (a second of a cold start on a busy machine): its file is
the percent-decoded path, as `make_url` gives it (tests/test_store_url.py holds the two
equal), so that the file made 0600 is the file SQLite opens.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

__all__ = [
    "STORE_ENV",
    "StoreUrlError",
    "check_url",
    "choose_url",
    "default_url",
    "display_url",
    "secrets_of",
    "sqlite_path",
]

STORE_ENV = "OSINT_FANOUT_STORE"
_SQLITE = "sqlite:///"
_POSTGRES = ("postgresql", "postgresql+psycopg", "postgres")
_HOW = "give sqlite:///path/to/file.db or postgresql://user@host/db"
_MASK = "***"
_SECRET_PARAMS = ("password", "sslpassword")
"""libpq parameters that hold a secret (a query parameter of the URL is one of them)."""


class StoreUrlError(ValueError):
    """Not a store URL we can use; the message is one line saying what would be (never
    the password)."""


def default_url() -> str:
    """An SQLite file in the user data directory (Linux: ~/.local/share/osint-fanout/)."""
    from platformdirs import user_data_path

    return f"{_SQLITE}{user_data_path('osint-fanout', appauthor=False) / 'store.db'}"


def check_url(url: str) -> str:
    """The URL as SQLAlchemy takes it (postgresql:// means psycopg 3); StoreUrlError if
    unusable. Its secrets are registered for redaction before anything can show them."""
    text = url.strip()
    if text.startswith(_SQLITE):
        path = text[len(_SQLITE) :]
        if not path or path == ":memory:" or "?" in path or not unquote(path):
            raise StoreUrlError(f"store {text}: needs a file path ({_HOW})")
        return text
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in _POSTGRES:
        raise StoreUrlError(f"store {display_url(text)!r} is not a store URL: {_HOW}")  # never its password
    parsed = _parse(text)  # raises StoreUrlError, without the URL, when it cannot be read
    _register(parsed)
    return f"postgresql+psycopg://{rest}"  # no host: the local server's socket, as libpq does


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite store URL (relative paths are from the working directory), as
    the database layer opens it (percent-decoded), else None."""
    return Path(unquote(url[len(_SQLITE) :])) if url.startswith(_SQLITE) else None


def secrets_of(url: str) -> list[str]:
    """The secrets of a PostgreSQL URL (password, and ?password=/sslpassword= parameters),
    exactly as the database layer reads them; none for SQLite or an unreadable URL."""
    if url.startswith(_SQLITE) or "://" not in url:
        return []
    try:
        parsed = _parse(url)
    except StoreUrlError:
        return []
    found = [parsed.password] if parsed.password else []
    for name in _SECRET_PARAMS:
        value = parsed.query.get(name)
        found.extend([value] if isinstance(value, str) else list(value or ()))
    return [str(secret) for secret in found if secret]


def display_url(url: str) -> str:
    """The URL with every secret shown as ***; an unreadable one without its user part."""
    if url.startswith(_SQLITE):
        return url
    if "://" not in url:
        return url if "@" not in url else "'...'"  # user:password@host without a scheme
    try:
        parsed = _parse(url)
    except StoreUrlError:
        return _shown_scheme(url)
    hidden = [name for name in parsed.query if name in _SECRET_PARAMS]
    shown = parsed.difference_update_query(hidden).render_as_string(hide_password=True)
    masked = "&".join(f"{name}={_MASK}" for name in hidden)
    return f"{shown}{'&' if '?' in shown else '?'}{masked}" if masked else shown


def _parse(url: str) -> URL:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url)
    except (ArgumentError, ValueError, TypeError) as exc:  # a broken IPv6 host, a port that is no number
        reason = "a port that is no number, or a broken [IPv6] host" if isinstance(exc, ValueError) else "malformed"
        raise StoreUrlError(
            f"store URL {_shown_scheme(url)} cannot be read ({reason}; the URL is not shown, it may hold a "
            f"password): {_HOW}"
        ) from None


def _register(parsed: URL) -> None:
    from .._redact import register_secret

    for secret in secrets_of(parsed.render_as_string(hide_password=False)):
        register_secret(secret)


def _shown_scheme(url: str) -> str:
    """Only the scheme of a URL that cannot be shown safely: 'postgresql://...'."""
    scheme, sep, _ = url.partition("://")
    return f"{scheme[:20]}://..." if sep else "'...'"


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
