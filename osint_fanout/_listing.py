"""The `adapters` command: what is installed, what it handles, whether a key is set."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ._adapter import AdapterOptions, KeyPolicy
from ._exitcodes import EXIT_USAGE
from ._plugins import discover
from ._redact import terminal_safe
from ._settings import ConfigError, load_settings

__all__ = ["adapter_rows", "show_adapters"]


def show_adapters(config: Path | None, fmt: str) -> int:
    registry = discover()
    try:
        settings = load_settings(registry, config)
    except ConfigError as exc:
        print(f"osint-fanout: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    rows = adapter_rows(registry.adapters, settings.options, registry.origins)
    failed = [{"name": name, "error": why} for name, why in registry.failed.items()]
    if fmt == "json":
        print(json.dumps({"adapters": rows, "failed": failed}, indent=2))
        return 0
    table = Table(title="adapters")
    for column in ("name", "description", "targets", "key", "timeout", "enabled"):
        table.add_column(column)
    for row in rows:
        key = row["key"] if row["key"] == "none" else f"{row['key']}, {'set' if row['key_configured'] else 'not set'}"
        table.add_row(
            *(
                Text(terminal_safe(str(v)))
                for v in (
                    row["name"],
                    row["description"],
                    ", ".join(row["kinds"]),
                    key,
                    f"{row['default_timeout_s']:g}s",
                    "yes" if row["enabled"] else "no",
                )
            )
        )
    Console().print(table)
    for item in failed:
        print(
            f"osint-fanout: warning: adapter plugin {item['name']!r} failed to load: {item['error']}", file=sys.stderr
        )
    return 0


def adapter_rows(
    adapters: dict[str, Any], options: dict[str, AdapterOptions], origins: dict[str, str]
) -> list[dict[str, Any]]:
    rows = []
    common = set(AdapterOptions.model_fields)
    for name, cls in adapters.items():
        opts = options[name]
        own = {
            field_name: {
                "default": _plain(field.get_default(call_default_factory=True)),
                "description": field.description,
            }
            for field_name, field in cls.Options.model_fields.items()
            if field_name not in common
        }
        rows.append(
            {
                "name": name,
                "description": cls.description,
                "kinds": sorted(kind.value for kind in cls.kinds),
                "key": cls.key.value,
                "key_env": cls.key_env,
                "key_configured": cls.key is not KeyPolicy.NONE and opts.api_key is not None,
                "default_timeout_s": cls.default_timeout_s,
                "enabled": opts.enabled,
                "rate_limits": dict(cls.rate_limits),
                "options": own,
                "package": origins.get(name),
            }
        )
    return rows


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | list | type(None)) else str(value)
