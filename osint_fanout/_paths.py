"""The `paths` command: where the config file, the store, the cache and the quota
counts live, and why there (a flag, a variable, the config, the default)."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ._exitcodes import EXIT_USAGE
from ._history import ConfigOption, StoreOption

__all__ = ["paths", "show_paths"]


class _Format(StrEnum):
    table = "table"
    json = "json"


def paths(
    config: ConfigOption = None,
    store: StoreOption = None,
    output_format: Annotated[
        _Format, typer.Option("--format", "-f", help="How the places are written.", case_sensitive=False)
    ] = _Format.table,
) -> None:
    """Say where the config file, the store, the cache and the quota counts are, and why there."""
    raise typer.Exit(show_paths(config, store, output_format.value))


def show_paths(config: Path | None, store: str | None, fmt: str) -> int:
    """Print the places; exit 2 when the config (or the store URL) is unusable, after
    printing what can be known without it."""
    from platformdirs import user_cache_path

    from ._plugins import discover
    from ._quota import default_ledger_path
    from ._settings import CONFIG_ENV, ConfigError, default_config_path, load_settings
    from .store import STORE_ENV, StoreUrlError, choose_url, display_url

    problem = None
    config_from = "--config" if config else f"${CONFIG_ENV}" if os.environ.get(CONFIG_ENV) else "default"
    config_path = Path(config or os.environ.get(CONFIG_ENV) or default_config_path())
    configured = None
    try:
        settings = load_settings(discover(), config)
        configured = settings.store.url
    except ConfigError as exc:
        problem = str(exc)
    store_from = "default"
    if store:
        store_from = "--store"
    elif os.environ.get(STORE_ENV):
        store_from = f"${STORE_ENV}"
    elif configured:
        store_from = "[store] url"
    try:
        store_url = choose_url(store, configured=configured)  # checked; shown as the user wrote it
        given = store or os.environ.get(STORE_ENV) or configured
        store_shown = display_url(given.strip() if given else store_url) if store_url else "none"
    except StoreUrlError as exc:
        store_shown, problem = "unusable", problem or str(exc)
    places = {
        "config": {
            "path": str(config_path),
            "from": config_from,
            "exists": config_path.is_file(),
        },
        "store": {"url": store_shown, "from": store_from},
        "cache": {"path": str(user_cache_path("osint-fanout", appauthor=False))},
        "quotas": {"path": str(default_ledger_path())},
    }
    if fmt == "json":
        print(json.dumps(places | ({"error": problem} if problem else {}), indent=2))
    else:
        from ._redact import terminal_safe

        exists = "" if places["config"]["exists"] else ", not there: every setting has its default"
        lines = [
            f"config  {config_path}  ({config_from}{exists})",
            f"store   {store_shown}  ({store_from})",
            f"cache   {places['cache']['path']}",
            f"quotas  {places['quotas']['path']}",
        ]
        print("\n".join(terminal_safe(line) for line in lines))
    if problem:
        print(f"osint-fanout: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    return 0
