"""Alembic's environment for the store: always run programmatically by
osint_fanout.store._migrate, on a connection it has opened and locked."""

from __future__ import annotations

from alembic import context


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("the store's migrations run through osint_fanout.store, on an open connection")
    context.configure(connection=connection, target_metadata=None, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()
