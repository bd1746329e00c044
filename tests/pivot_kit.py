"""A fake zone for pivot tests: an adapter that answers from a dict and declares assets
(names it resolves to, CNAMEs, name servers, names it "found"), with wildcard records."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from typing import Any

from osint_fanout import Adapter, AdapterOptions, Context, NotFound, Target, TargetKind
from osint_fanout._engine import Event, Investigation
from osint_fanout._http import HttpPolicy, HttpPool
from osint_fanout._plan import ReadyAdapter
from osint_fanout._results import Report
from osint_fanout._targets import parse_target
from osint_fanout.assets import AssetType, Findings, RelationKind, ip_type
from osint_fanout.pivot import Pivot, PivotOptions, Wildcards, adapter_resolver

ZONE: dict[str, dict[str, Any]] = {
    "example.com": {
        "a": ["192.0.2.1"],
        "ns": ["ns1.dnshost.net"],
        "names": [
            "www.example.com",
            "mail.example.com",
            "other.net",
            "a.wild.example.com",
            "b.wild.example.com",
            "real.wild.example.com",
            "dev.example.com",
        ],
    },
    "www.example.com": {"cname": "cdn.example.com", "names": ["deep.example.com"]},
    "cdn.example.com": {"a": ["192.0.2.10"]},
    "mail.example.com": {"a": ["192.0.2.1"]},  # shared with the apex
    "dev.example.com": {"a": ["192.0.2.20"]},
    "deep.example.com": {"a": ["192.0.2.30"], "names": ["deeper.example.com"]},
    "deeper.example.com": {"a": ["192.0.2.31"]},
    "real.wild.example.com": {"a": ["192.0.2.50"]},
    "*.wild.example.com": {"a": ["192.0.2.99"]},
    "192.0.2.1": {"ptr": ["host.example.com"]},
}


def answer(name: str, zone: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    if name in zone:
        return zone[name]
    parts = name.split(".")
    for i in range(1, len(parts) - 1):
        wild = "*." + ".".join(parts[i:])
        if wild in zone:
            return zone[wild]
    return None


class ZoneAdapter(Adapter[AdapterOptions]):
    name = "zone"
    description = "a fake zone with assets"
    kinds = frozenset(TargetKind)
    resolves = True
    zone: dict[str, dict[str, Any]] = ZONE
    asked: Counter[str]  # by target, set per test

    async def lookup(self, target: Target, ctx: Context) -> dict[str, Any]:
        type(self).asked[target.value] += 1
        await asyncio.sleep(0.001)
        data = answer(target.value, self.zone)
        if data is None:
            raise NotFound()
        return dict(data)

    def assets(self, target: Target, data: dict[str, Any]) -> Findings:
        found = Findings()
        me = found.target_ref(target)
        for ip in data.get("a", []):
            found.relate(me, RelationKind.RESOLVES_TO, found.add(ip_type(ip), ip))
        if "cname" in data:
            found.relate(me, RelationKind.ALIAS_OF, found.add(AssetType.DOMAIN, data["cname"]))
        for ns in data.get("ns", []):
            found.link(AssetType.DOMAIN, ns, RelationKind.NAME_SERVER_OF, me)
        for name in data.get("names", []):
            found.link(AssetType.DOMAIN, name, RelationKind.SUBDOMAIN_OF, me)
        for name in data.get("ptr", []):
            found.link(AssetType.DOMAIN, name, RelationKind.REVERSE_NAME_OF, me)
        found.add(AssetType.NETBLOCK, "192.0.2.0/24")
        return found


def zone_ready(cls: type[Adapter[AdapterOptions]] = ZoneAdapter) -> ReadyAdapter:
    cls.asked = Counter()
    return ReadyAdapter(cls(cls.Options()), 5.0, HttpPolicy(cls.name, 1 << 20))


def run_pivot(
    seeds: Iterable[str], options: PivotOptions, adapters: list[ReadyAdapter] | None = None, *, wildcards: bool = True
) -> tuple[Pivot, list[Event]]:
    """A pivoted run as search wires it (the pivot sees each event as a sink would)."""
    adapters = adapters or [zone_ready()]

    async def main() -> tuple[Pivot, list[Event]]:
        pool = HttpPool()
        resolver = next((r for r in adapters if r.adapter.resolves), None)
        wild = Wildcards(adapter_resolver(resolver, pool, until=lambda: None)) if wildcards and resolver else None
        pivot = Pivot(options, {r.name: r.adapter for r in adapters}, wildcards=wild)
        engine = Investigation(adapters, concurrency=4, deadline_s=10, origin=pivot.origin)

        async def source() -> Any:
            for seed in seeds:
                yield parse_target(seed)

        events: list[Event] = []
        async for event in engine.events(pivot.stream(source()), pool=pool):
            events.append(event)
            if isinstance(event, Report):
                pivot.report(event)
            else:
                pivot.result(event)
        pivot.finish()
        await pool.aclose()
        return pivot, events

    return asyncio.run(asyncio.wait_for(main(), 20))


def reports(events: list[Event]) -> dict[str, Report]:
    return {event.target.value: event for event in events if isinstance(event, Report)}


# Stand-ins for the built-in dns and ct adapters' own assets() (engineer `assets` writes
# those): the same adapters, asking the world's DNS server and crt.sh, with assets declared.
ZONE_PLUGINS = {
    "zonedns": """
        from osint_fanout.assets import AssetType, Findings, RelationKind, ip_type
        from osint_fanout_adapters.dns import DnsAdapter

        class Plugin(DnsAdapter):
            name = "zonedns"

            def assets(self, target, data):
                found = Findings()
                me = found.target_ref(target)
                records = data.get("records", {})
                for ip in records.get("A", []) + records.get("AAAA", []):
                    found.relate(me, RelationKind.RESOLVES_TO, found.add(ip_type(ip), ip))
                for name in records.get("CNAME", []):
                    found.relate(me, RelationKind.ALIAS_OF, found.add(AssetType.DOMAIN, name))
                for name in records.get("NS", []):
                    found.link(AssetType.DOMAIN, name, RelationKind.NAME_SERVER_OF, me)
                for mx in records.get("MX", []):
                    found.link(AssetType.DOMAIN, mx["exchange"], RelationKind.MAIL_EXCHANGER_OF, me)
                for name in data.get("ptr", []):
                    found.link(AssetType.DOMAIN, name, RelationKind.REVERSE_NAME_OF, me)
                return found
    """,
    "zonect": """
        from osint_fanout.assets import AssetType, Findings, RelationKind
        from osint_fanout_adapters.ct import CtAdapter

        class Plugin(CtAdapter):
            name = "zonect"

            def assets(self, target, data):
                found = Findings()
                me = found.target_ref(target)
                for name in data.get("subdomains", []):
                    found.link(AssetType.DOMAIN, name, RelationKind.SUBDOMAIN_OF, me)
                for cert in data.get("certificates", []):  # names in other domains, too
                    ref = found.add(AssetType.CERTIFICATE, cert["id"])
                    for name in cert["names"]:
                        found.relate(ref, RelationKind.COVERS, found.add(AssetType.DOMAIN, name.removeprefix("*.")))
                return found
    """,
}


def zone_world(world: Any, root: Any, **sections: dict[str, Any]) -> dict[str, str]:
    """Install the zone plugins into `root`, write the world's config for them; the env to run with."""
    from tests.plugin_kit import install_plugin

    for name, source in ZONE_PLUGINS.items():
        install_plugin(root, name, source)
    adapters = world.config()["adapters"]
    slow = {"timeout_s": 30.0}  # a busy machine must not turn the seed's answer into a timeout
    sections = {"zonedns": adapters["dns"] | slow, "zonect": adapters["ct"] | slow} | sections
    world.write_config(**sections)
    return {"PYTHONPATH": str(root)}
