"""The `adapters` command: what is installed, what it handles, whether a key is set."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from ._adapter import AdapterOptions, KeyPolicy
from ._exitcodes import EXIT_USAGE
from ._plugins import discover
from ._redact import terminal_safe
from ._settings import ConfigError, load_settings

__all__ = ["adapter_rows", "render_listing", "show_adapters"]

COLUMNS = ("name", "targets", "key", "timeout", "enabled")
DESCRIPTION_INDENT = 4
DESCRIPTION_LINES = 2
"""A description longer than this many lines is cut short with '...'."""


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
    console = Console()
    for line in render_listing(rows, console.width):
        console.print(line, no_wrap=True, overflow="ellipsis", crop=True)
    for item in failed:
        print(
            f"osint-fanout: warning: adapter plugin {item['name']!r} failed to load: {item['error']}", file=sys.stderr
        )
    return 0


def render_listing(rows: list[dict[str, Any]], width: int) -> list[Text]:
    """The `adapters` table, readable at 80 columns: one line of facts per adapter in
    aligned columns, its description under it, indented, on at most two lines, and the
    variable that sets a missing key. Narrower than the facts, each adapter is a block
    of wrapped `label value` lines instead (no column is cut to '…')."""
    facts = [[terminal_safe(cell) for cell in _facts(row)] for row in rows]
    widths = [max(cell_len(line[i]) for line in [list(COLUMNS), *facts]) for i in range(len(COLUMNS))]
    wide = sum(widths) + 2 * (len(COLUMNS) - 1) <= width
    room = max(20, width - DESCRIPTION_INDENT)
    lines = [_aligned(list(COLUMNS), widths, ["bold"] * len(COLUMNS))] if wide else []
    for row, cells in zip(rows, facts, strict=True):
        missing = row["key"] == KeyPolicy.REQUIRED.value and not row["key_configured"]
        key_style = "yellow" if missing else ""
        hint = terminal_safe(_key_hint(row) or "")
        if wide:
            lines.append(_aligned(cells, widths, ["bold", "", key_style, "", ""]))
            blocks = [(f"key: {hint}", key_style or "dim")] if hint else []
        else:
            name, kinds, key, timeout, enabled = cells
            lines.append(Text(name, style="bold"))
            blocks = [
                (f"targets {kinds} · timeout {timeout} · enabled {enabled}", ""),
                (f"key {key}" + (f": {hint}" if hint else ""), key_style),
            ]
        for text, style in blocks:
            for part in textwrap.wrap(text, room):
                lines.append(Text(" " * DESCRIPTION_INDENT + part, style=style))
        description = terminal_safe(str(row["description"] or ""))
        for part in textwrap.wrap(description, room, max_lines=DESCRIPTION_LINES, placeholder=" ..."):
            lines.append(Text(" " * DESCRIPTION_INDENT + part, style="dim"))
    return lines


def _key_hint(row: dict[str, Any]) -> str | None:
    """How to set a key the adapter takes but has not got."""
    if row["key"] == "none" or row["key_configured"]:
        return None
    where = f"api_key in [adapters.{row['name']}]"
    env = row.get("key_env")
    return f"set {env} (or {where})" if env else f"set {where}"


def _facts(row: dict[str, Any]) -> list[str]:
    key = row["key"] if row["key"] == "none" else f"{row['key']}, {'set' if row['key_configured'] else 'not set'}"
    enabled = "yes" if row["enabled"] else "no"
    return [row["name"], ", ".join(row["kinds"]), key, f"{row['default_timeout_s']:g}s", enabled]


def _aligned(cells: list[str], widths: list[int], styles: list[str]) -> Text:
    line = Text()
    for i, (cell, cell_width, style) in enumerate(zip(cells, widths, styles, strict=True)):
        line.append(cell, style=style)
        if i < len(cells) - 1:
            line.append(" " * (cell_width - cell_len(cell) + 2))
    return line


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
                "key_configured": cls.key is not KeyPolicy.NONE and (opts.api_key is not None or bool(opts.api_keys)),
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
