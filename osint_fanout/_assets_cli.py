"""The `assets` command: the stored attack surface of a target, for pipelines (one value a
line) or with its provenance (json, ndjson). Only Typer is imported here; the store loads in
the command."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._exitcodes import EXIT_USAGE
from ._history import ConfigOption, StoreOption, _fail, store_command

if TYPE_CHECKING:
    from ._plugins import Registry
    from ._settings import Settings
    from .assets import AssetGraph, AssetType, StoredAsset
    from .store import Store

__all__ = ["TYPE_NAMES", "assets", "pick"]

TYPE_NAMES: dict[str, tuple[str, ...]] = {
    "domain": ("domain-name",),
    "ip": ("ipv4-addr", "ipv6-addr"),
    "ipv4": ("ipv4-addr",),
    "ipv6": ("ipv6-addr",),
    "netblock": ("netblock",),
    "asn": ("autonomous-system",),
    "org": ("organization",),
    "certificate": ("x509-certificate",),
    "service": ("service",),
    "email": ("email-addr",),
}
"""--type's short names; the vocabulary's own names (domain-name, ipv4-addr, ...) work too."""


class Format(StrEnum):
    values = "values"
    json = "json"
    ndjson = "ndjson"


def assets(
    target: Annotated[
        str, typer.Argument(metavar="TARGET", help="The seed: a domain, an IP address or a URL.", show_default=False)
    ],
    types: Annotated[
        list[str] | None,
        typer.Option(
            "--type",
            "-t",
            metavar="TYPE[,TYPE...]",
            help="Only these types: " + ", ".join(TYPE_NAMES) + " (or domain-name, ipv4-addr, ...).",
            show_default="all",
        ),
    ] = None,
    resolved_only: Annotated[
        bool,
        typer.Option(
            "--resolved-only",
            help="Only names that resolve (directly or through CNAMEs) and the addresses they resolve to.",
        ),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(metavar="DURATION", help="Only what was seen within this long: 1d, 12h, 7d.", show_default="all"),
    ] = None,
    output_format: Annotated[
        Format,
        typer.Option(
            "--format", "-f", help="values: one a line; json or ndjson: with provenance.", case_sensitive=False
        ),
    ] = Format.values,
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """List the stored assets of a target and of what was pivoted from it.

    Exit code 0 when something is listed, 1 when nothing is (stderr says so when nothing is stored for the target),
    2 for bad usage, 3 when the store cannot be read."""
    from ._duration import parse_duration
    from ._targets import InvalidTarget, parse_target

    try:
        seed = parse_target(target).value
        chosen = _types(types or [])
        since_s = parse_duration(since) if since is not None else None
    except (InvalidTarget, ValueError) as exc:
        raise typer.Exit(_fail(str(exc), EXIT_USAGE)) from None
    cutoff = datetime.now(UTC) - timedelta(seconds=since_s) if since_s is not None else None

    def work(opened: Store, _settings: Settings, _registry: Registry) -> int:
        graph = opened.load_graph(seed, since=cutoff)
        if not graph.assets:
            print(f"osint-fanout: no assets stored for {seed}" + (f" within {since}" if since else ""), file=sys.stderr)
            return 1
        listed = pick(graph, chosen, resolved_only=resolved_only)
        _show(graph, listed, output_format)
        return 0 if listed else 1

    raise typer.Exit(store_command(work, config=config, store=store))


def _types(given: list[str]) -> set[AssetType] | None:
    """The asset types of --type (repeatable, comma-separated); None: every type."""
    from .assets import AssetType

    names = [name.strip().lower() for text in given for name in text.split(",") if name.strip()]
    if not names:
        return None
    chosen: set[AssetType] = set()
    for name in names:
        values = TYPE_NAMES.get(name, (name,))
        try:
            chosen |= {AssetType(value) for value in values}
        except ValueError:
            known = ", ".join(TYPE_NAMES)
            raise ValueError(f"--type {name!r} is not an asset type (known: {known}, or domain-name, ...)") from None
    return chosen


def pick(graph: AssetGraph, types: set[AssetType] | None, *, resolved_only: bool = False) -> list[StoredAsset]:
    """The assets of `graph` of `types` (None: all); `resolved_only`: of names and addresses,
    only the names that resolve (an A/AAAA record, directly or at the end of CNAMEs) and the
    addresses a name resolves to."""
    from .assets import AssetType, RelationKind

    listed = [stored for stored in graph.assets if types is None or stored.ref.type in types]
    if not resolved_only:
        return listed
    resolves = [r.relation for r in graph.relations if r.relation.kind is RelationKind.RESOLVES_TO]
    resolved = {relation.source for relation in resolves} | {relation.target for relation in resolves}
    aliases = [r.relation for r in graph.relations if r.relation.kind is RelationKind.ALIAS_OF]
    grew = True
    while grew:  # a CNAME to a name that resolves resolves too (at most one pass per link)
        more = {alias.source for alias in aliases if alias.target in resolved} - resolved
        resolved |= more
        grew = bool(more)
    addressed = (AssetType.DOMAIN, AssetType.IPV4, AssetType.IPV6)
    return [stored for stored in listed if stored.ref.type not in addressed or stored.ref in resolved]


def _show(graph: AssetGraph, listed: list[StoredAsset], fmt: Format) -> None:
    from ._output import json_text
    from ._redact import terminal_safe

    if fmt is Format.values:
        sys.stdout.writelines(terminal_safe(stored.ref.value) + "\n" for stored in listed)
    elif fmt is Format.ndjson:
        sys.stdout.writelines(json_text(_record(stored)) + "\n" for stored in listed)
    else:
        refs = {stored.ref for stored in listed}
        relations = [
            {
                "source": str(stored.relation.source),
                "kind": str(stored.relation.kind),
                "target": str(stored.relation.target),
                "first_seen": _time(stored.first_seen),
                "last_seen": _time(stored.last_seen),
            }
            for stored in graph.relations
            if stored.relation.source in refs or stored.relation.target in refs
        ]
        document = {"seed": graph.seed, "assets": [_record(stored) for stored in listed], "relations": relations}
        sys.stdout.write(json_text(document, indent=2 if sys.stdout.isatty() else None) + "\n")


def _record(stored: StoredAsset) -> dict[str, Any]:
    return {
        "type": str(stored.ref.type),
        "value": stored.ref.value,
        "attrs": stored.asset.attrs,
        "first_seen": _time(stored.first_seen),
        "last_seen": _time(stored.last_seen),
        "depth": stored.depth,
        "found_by": [{"adapter": s.adapter, "target": s.target, "at": _time(s.at)} for s in stored.found_by],
    }


def _time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
