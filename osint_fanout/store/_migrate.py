"""Versioned migrations (Alembic, shipped in migrations/ and run from here: the user needs
no alembic.ini). A store at the newest revision costs one query; anything else (a new
database, an older store, or one that looks half-made) is looked at again under a lock
(PostgreSQL: an advisory lock; SQLite: the write lock, BEGIN IMMEDIATE), so that N
processes opening a new store at once create it once and none sees it half-made; a newer
one is refused."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import exc

from .._version import __version__
from ._rows import StoreError, store_error

__all__ = ["HEAD", "MIGRATIONS", "REVISIONS", "check_current", "prepare"]

MIGRATIONS = Path(__file__).with_name("migrations")
REVISIONS = ("0001", "0002", "0004_assets")
"""Every revision in migrations/versions/, oldest first (a test keeps this equal to Alembic's
view), so the usual open needs no Alembic import."""
HEAD = REVISIONS[-1]
_PG_LOCK = 0x05F1_FA40  # pg_advisory_xact_lock key: "osint-fanout migrates"


def prepare(engine: sa.Engine, shown: str) -> None:
    """Make the store at `engine` current, or raise StoreError."""
    try:
        with engine.connect() as conn:
            current = _is_head(conn)
            conn.rollback()
            if current:
                return
            with conn.execution_options(osint_write=True).begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
                version = _version(conn, shown)  # only now, with the lock held: never half-made
                if version is None:
                    _create(conn)
                elif version != HEAD:
                    _upgrade(conn)
    except exc.SQLAlchemyError as error:
        raise store_error(shown, error) from None


def check_current(engine: sa.Engine, shown: str) -> None:
    """A store opened read-only must be current already (only a writer can migrate it)."""
    try:
        with engine.connect() as conn:
            version = _version(conn, shown)
    except exc.SQLAlchemyError as error:
        raise store_error(shown, error) from None
    if version != HEAD:
        what = "is empty" if version is None else f"is at revision {version}, older than this osint-fanout's"
        raise StoreError(f"store {shown}: {what}, and may not be written here to make it current (read-only)")


def _is_head(conn: sa.Connection) -> bool:
    """Whether the store is current, without a lock: one query. Anything else (no table,
    another revision) is looked at again under the lock: another process may be creating
    the tables at this very moment, and what two queries see then need not agree."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return False
    found = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    return found == [HEAD]


def _version(conn: sa.Connection, shown: str) -> str | None:
    """The store's revision; None for a new (empty) database. Refuses what is not ours."""
    inspector = sa.inspect(conn)
    if not inspector.has_table("alembic_version"):
        if inspector.get_table_names():
            raise StoreError(f"store {shown}: holds tables but is no osint-fanout store (no version table)")
        return None
    found = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(found) != 1 or found[0] not in REVISIONS:
        shown_rev = ", ".join(map(str, found)) or "none"
        raise StoreError(
            f"store {shown}: revision {shown_rev} is unknown to osint-fanout {__version__}: it was written by a "
            "newer version (upgrade osint-fanout to use it) or is no osint-fanout store"
        )
    return str(found[0])


def _create(conn: sa.Connection) -> None:
    """A new store: the tables as of HEAD, stamped HEAD. This is Alembic's own recipe for a
    new database (create_all, then stamp), with the stamp written here rather than by
    `alembic.command.stamp`: a new store then costs no Alembic import (0.13 s, on every
    first run of a fresh machine or container). A test checks that running the migrations
    gives exactly these tables."""
    from ._tables import metadata

    metadata.create_all(conn)
    version = sa.Table(
        "alembic_version",
        sa.MetaData(),
        sa.Column("version_num", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
    )
    version.create(conn)
    conn.execute(version.insert().values(version_num=HEAD))


def _upgrade(conn: sa.Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")
