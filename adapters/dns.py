"""DNS records of a domain (and its SPF and DMARC policies), or the PTR name of an IP.

dnspython (30 ms to import) is loaded when the adapter is made for a run: listing the
adapters, or a run without dns, never loads it. One resolver serves the whole run; the
questions of a lookup go out together on one UDP socket (dns_udp.py)."""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from osint_fanout import Adapter, AdapterError, AdapterOptions, Context, Facts, NotFound, Target, TargetKind
from osint_fanout.assets import Findings

from .dns_records import add_record

if TYPE_CHECKING:
    import dns.asyncresolver

DOMAIN_TYPES = ("A", "AAAA", "CNAME", "MX", "NS", "TXT", "SOA", "CAA")


class DnsOptions(AdapterOptions):
    nameservers: list[str] = Field(
        default_factory=list,
        description="Servers as 'IP', 'IP:PORT' or '[IPv6]:PORT'; empty: the system's resolver configuration.",
    )
    tcp: bool = Field(False, description="Ask over TCP instead of UDP.")

    @field_validator("nameservers")
    @classmethod
    def _check(cls, servers: list[str]) -> list[str]:
        for server in servers:
            split_server(server)
        return servers


def split_server(text: str) -> tuple[str, int]:
    """'1.1.1.1' -> ('1.1.1.1', 53); '127.0.0.1:5353'; '[::1]:5353'; '::1'."""
    host, port = text.strip(), "53"
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        port = rest.removeprefix(":") or "53"
    elif host.count(":") == 1:
        host, port = host.split(":")
    try:
        ipaddress.ip_address(host)
        number = int(port)
    except ValueError:
        raise ValueError(f"nameserver {text!r} is not an IP address with an optional :PORT") from None
    if not 0 < number < 65536:
        raise ValueError(f"nameserver {text!r}: port out of range")
    return host, number


def make_resolver(servers: list[str]) -> dns.asyncresolver.Resolver:
    """A resolver asking `servers` ('IP[:PORT]'), or the system's configuration when empty."""
    import dns.asyncresolver
    import dns.nameserver
    import dns.resolver

    try:
        resolver = dns.asyncresolver.Resolver(configure=not servers)
    except dns.resolver.NoResolverConfiguration as exc:
        raise AdapterError("config", f"no system resolver configuration ({exc}); set nameservers") from None
    if servers:
        resolver.nameservers = [dns.nameserver.Do53Nameserver(*split_server(s)) for s in servers]
    return resolver

class DnsAdapter(Adapter[DnsOptions]):
    name = "dns"
    description = "DNS records (A, AAAA, CNAME, MX, NS, TXT, SOA, CAA, SPF, DMARC), or an IP's PTR name"
    kinds = frozenset({TargetKind.DOMAIN, TargetKind.IPV4, TargetKind.IPV6})
    default_timeout_s = 5.0
    Options = DnsOptions
    resolves = True  # a pivot asks it about random labels, to detect wildcard records

    def __init__(self, options: DnsOptions) -> None:
        super().__init__(options)
        self._made: dns.asyncresolver.Resolver | None = None
        # dnspython is loaded now that a run will ask DNS, not in the first lookup's time: the
        # resolver, the fast path, and the reader of each record type (loaded on first use).
        import dns.asyncresolver
        import dns.rdata
        import dns.rdataclass
        import dns.rdatatype

        from . import dns_udp  # noqa: F401

        for rdtype in (*DOMAIN_TYPES, "PTR"):
            dns.rdata.get_rdata_class(dns.rdataclass.IN, dns.rdatatype.from_text(rdtype))

    async def lookup(self, target: Target, ctx: Context) -> dict[str, Any]:
        resolver = self._resolver()
        lifetime = ctx.timeout_s()  # answer before the core's timeout, naming the servers
        if target.is_ip:
            return await self._reverse(resolver, target.value, ctx)
        names = [(target.value, rdtype) for rdtype in DOMAIN_TYPES] + [(f"_dmarc.{target.value}", "TXT")]
        answers = await self._ask_all(resolver, names, ctx.timeout_s)
        records: dict[str, Any] = {}
        errors: dict[str, str] = {}
        nxdomain = False
        for (_name, rdtype), (values, problem) in zip(names[:-1], answers[:-1], strict=True):
            if problem == "nxdomain":
                nxdomain = True
            elif problem:
                errors[rdtype] = problem
            elif values:
                records[rdtype] = values
        if nxdomain and not records:
            raise NotFound(f"{target.value}: NXDOMAIN")
        if not records and errors:
            _raise_for(errors, self._servers(resolver), lifetime)
        dmarc_values, dmarc_problem = answers[-1]
        if dmarc_problem not in (None, "nxdomain"):
            errors["DMARC"] = dmarc_problem
        return {
            "name": target.value,
            "records": records,
            "spf": _first(records.get("TXT", []), "v=spf1"),
            "dmarc": _first(dmarc_values, "v=dmarc1"),
            "errors": errors,
            "nameservers": self._servers(resolver),
        }

    def summarize(self, data: dict[str, Any]) -> str:
        if "ptr" in data:
            return "PTR " + (", ".join(data["ptr"]) or "none")
        records = data.get("records", {})
        parts = []
        if records.get("A"):
            first = records["A"][0]
            parts.append(f"A {first}" + (f" (+{len(records['A']) - 1})" if len(records["A"]) > 1 else ""))
        parts += [f"{len(records[t])} {t}" for t in ("AAAA", "MX", "NS", "TXT", "CAA") if records.get(t)]
        if records.get("CNAME"):
            parts.append(f"CNAME {records['CNAME'][0]}")
        parts += [label for label, key in (("SPF", "spf"), ("DMARC", "dmarc")) if data.get(key)]
        if data.get("errors"):
            parts.append("failed: " + ", ".join(data["errors"]))
        return ", ".join(parts) or "no records"

    def _resolver(self) -> dns.asyncresolver.Resolver:
        """The run's resolver, made by the first lookup (the system's configuration read once)."""
        if self._made is None:
            self._made = make_resolver(self.options.nameservers)
        return self._made

    async def _reverse(self, resolver: dns.asyncresolver.Resolver, address: str, ctx: Context) -> dict[str, Any]:
        import dns.reversename

        lifetime = ctx.timeout_s()
        name = dns.reversename.from_address(address).to_text()
        [(values, problem)] = await self._ask_all(resolver, [(name, "PTR")], ctx.timeout_s)
        if problem == "nxdomain":
            raise NotFound(f"no PTR record for {address}")
        if problem:
            _raise_for({"PTR": problem}, self._servers(resolver), lifetime)
        if not values:
            raise NotFound(f"no PTR record for {address}")
        return {"address": address, "ptr": values, "nameservers": self._servers(resolver)}

    async def _ask_all(
        self, resolver: dns.asyncresolver.Resolver, names: Sequence[tuple[str, str]], timeout_s: Callable[[], float]
    ) -> list[tuple[list[Any], str | None]]:
        """Every question's (values, problem): all at once on one UDP socket first
        (dns_udp.py), then the resolver's own way for what that leaves open, each given
        the time the context says is left (`timeout_s`: ctx.timeout_s)."""
        from . import dns_udp

        replies: list[dns_udp.Reply | None] = [None] * len(names)
        if dns_udp.usable(resolver, tcp=self.options.tcp):
            replies = await dns_udp.ask_udp(resolver, names, timeout_s())
        left = timeout_s()

        async def settle(question: tuple[str, str], reply: dns_udp.Reply | None) -> tuple[list[Any], str | None]:
            if reply is None:
                return await self._ask(resolver, *question, left)
            if reply.nxdomain:
                return [], "nxdomain"
            return _values(reply.rrset), None

        return list(await asyncio.gather(*(settle(q, r) for q, r in zip(names, replies, strict=True))))

    async def _ask(
        self, resolver: dns.asyncresolver.Resolver, name: str, rdtype: str, lifetime: float
    ) -> tuple[list[Any], str | None]:
        """(values, None), or ([], a short problem: nxdomain, servfail, timeout, ...)."""
        import dns.exception
        import dns.resolver

        try:
            answer = await resolver.resolve(
                name, rdtype, tcp=self.options.tcp, lifetime=lifetime, search=False, raise_on_no_answer=False
            )
        except dns.resolver.NXDOMAIN:
            return [], "nxdomain"
        except dns.resolver.NoNameservers as exc:  # every server answered with an error code
            codes = re.findall(r"answered (\w+)", str(exc))
            return [], "refused" if codes and all(code == "REFUSED" for code in codes) else "servfail"
        except dns.exception.Timeout:
            return [], "timeout"
        except dns.exception.DNSException as exc:
            return [], f"{type(exc).__name__}"
        return _values(answer.rrset), None

    @staticmethod
    def _servers(resolver: dns.asyncresolver.Resolver) -> list[str]:
        return [
            f"{getattr(ns, 'address', ns)}:{getattr(ns, 'port', 53)}" if not isinstance(ns, str) else f"{ns}:53"
            for ns in resolver.nameservers
        ]

    def facts(self, data: dict[str, Any]) -> Facts | None:
        """Records by type (MX as 'PREF HOST', SOA as 'MNAME RNAME' without its serial and
        timers, CAA as 'FLAGS TAG VALUE'), SPF and DMARC; a type that failed is left out."""

        def text(value: Any) -> str:
            if not isinstance(value, dict):
                return str(value)
            if "exchange" in value:
                return f"{value['preference']} {value['exchange']}"
            if "mname" in value:
                return f"{value['mname']} {value['rname']}"
            return f"{value.get('flags')} {value.get('tag')} {value.get('value')}"

        if "ptr" in data:
            return {"PTR": frozenset(data["ptr"])}
        failed, records = set(data.get("errors", {})), data.get("records", {})
        found: Facts = {t: frozenset(map(text, records.get(t, []))) for t in DOMAIN_TYPES if t not in failed}
        found |= {key: data.get(key) for key, rdtype in (("spf", "TXT"), ("dmarc", "DMARC")) if rdtype not in failed}
        return found

    def assets(self, target: Target, data: dict[str, Any]) -> Findings | None:
        """The addresses a name resolves to, its alias, mail exchangers and name servers;
        an address's PTR names."""
        found = Findings()
        me = found.add(Findings.target_ref(target).type, target.value)
        if "ptr" in data:
            for name in data["ptr"]:
                add_record(found, me, "PTR", name)
            return found
        for rdtype in ("A", "AAAA", "CNAME", "NS"):
            for value in data.get("records", {}).get(rdtype, []):
                add_record(found, me, rdtype, value)
        for mx in data.get("records", {}).get("MX", []):
            add_record(found, me, "MX", mx.get("exchange", "") if isinstance(mx, dict) else str(mx))
        return found


def _values(rrset: Any) -> list[Any]:
    """An answer's values, in a stable order (none for no answer)."""
    return [] if rrset is None else sorted((_value(rdata) for rdata in rrset), key=_order)


def _value(rdata: Any) -> Any:
    import dns.rdatatype

    rdtype = rdata.rdtype
    if rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
        return rdata.address
    if rdtype in (dns.rdatatype.CNAME, dns.rdatatype.NS, dns.rdatatype.PTR):
        return rdata.target.to_text(omit_final_dot=True)
    if rdtype == dns.rdatatype.MX:
        return {"preference": rdata.preference, "exchange": rdata.exchange.to_text(omit_final_dot=True)}
    if rdtype == dns.rdatatype.TXT:
        return b"".join(rdata.strings).decode("utf-8", errors="backslashreplace")
    if rdtype == dns.rdatatype.SOA:
        return {
            "mname": rdata.mname.to_text(omit_final_dot=True),
            "rname": rdata.rname.to_text(omit_final_dot=True),
            "serial": rdata.serial,
            "refresh": rdata.refresh,
            "retry": rdata.retry,
            "expire": rdata.expire,
            "minimum": rdata.minimum,
        }
    if rdtype == dns.rdatatype.CAA:
        return {
            "flags": rdata.flags,
            "tag": rdata.tag.decode("ascii", "replace"),
            "value": rdata.value.decode("utf-8", "replace"),
        }
    return rdata.to_text()


def _order(value: Any) -> tuple[Any, ...]:
    if isinstance(value, dict):
        return (value.get("preference", 0), str(sorted(value.items())))
    return (0, str(value))


def _first(texts: list[str], prefix: str) -> str | None:
    return next((text for text in texts if text.lower().startswith(prefix)), None)


def _raise_for(errors: dict[str, str], servers: list[str], lifetime: float) -> None:
    where = ", ".join(servers) or "the system resolver"
    if all(problem == "timeout" for problem in errors.values()):
        raise TimeoutError(f"no answer from {where} within {lifetime:.1f} s")
    for code in ("servfail", "refused"):
        if code in errors.values():
            raise AdapterError(code, f"{where} failed to answer ({code.upper()})")
    raise AdapterError("dns", f"{where}: " + ", ".join(f"{t} {p}" for t, p in errors.items()))
