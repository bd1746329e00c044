"""Registration data of a domain or an IP network: RDAP first (RFC 9083), its server found
through the IANA bootstrap (rdap_bootstrap.py), its answer read by rdap.py, with one step on to
the registrar's own RDAP record; port-43 WHOIS (RFC 3912) for registries without RDAP, its
answer read by python-whois in a child process, checked and completed by whois_text.py."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from osint_fanout import (
    Adapter,
    AdapterError,
    AdapterOptions,
    Context,
    NotFound,
    Skip,
    Target,
    TargetKind,
    UpstreamUrl,
    inward_reason,
    referral_reason,
)
from osint_fanout.assets import AssetType, Findings, RelationKind

from . import rdap, rdap_bootstrap, whois_text
from .whois_dates import read_date
from .whois_text import WHOIS_LINE_MAX, WHOIS_SCAN_MAX, WHOIS_TEXT_MAX, trimmed

__all__ = ["WHOIS_LINE_MAX", "WHOIS_MAX_BYTES", "WHOIS_TEXT_MAX", "WhoisAdapter", "WhoisOptions", "whois_query"]

WHOIS_MAX_BYTES = 1024 * 1024  # what a port-43 server may send
RDAP_HEADERS = {"Accept": "application/rdap+json"}  # RFC 7480 section 4.2
# The registrar's record is asked only with at least RELATED_MIN_S left, and given up on just
# before the call's time is up (ctx.timeout), so that the registry's data always arrives.
RELATED_MIN_S = 1.0
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_REFERRAL = re.compile(r"(?im)^(?:refer|whois):[ \t]*(\S+)[ \t\r]*$")
# python-whois recognises "not found" only for the TLDs it has a parser of its own for.
# [ \t], never \s: a \s* after ^ runs over newlines, quadratic on a run of empty lines.
_NOT_FOUND = re.compile(
    r"(?im)^[ \t]*(no match|not found|no (data|entries|object) found|domain not found|status:[ \t]*free\b)"
)
# Registries that want a query of their own form, as python-whois's NICClient.whois writes them
# (whois/whois.py in python-whois 0.9.6; it has no function for it outside its socket code).
# A name starting with "." is a suffix.
_QUERY_FORMS = (
    ("whois.denic.de", "-T dn,ace -C UTF-8 {}"),  # DENIC: domain data, names in ACE, UTF-8 text
    ("whois.dk-hostmaster.dk", "--show-handles {}"),
    (".jp", "{}/e"),  # JPRS: the answer in English
)
# The child process that runs python-whois. Its regexes cannot be interrupted and some take
# seconds (WhoisHk: 2 s on a real 3.6 KB answer), so the parse is something the call waits for
# with a timeout, like an upstream, and kills. It prints {key: [values]} as JSON, null when
# python-whois says "no such domain", or a string saying why it failed.
_PARSER = """\
import json, sys
from datetime import datetime
import whois.parser
from whois.exceptions import WhoisDomainNotFoundError
def values(raw):
    items = raw if isinstance(raw, list) else [raw]
    return [v.isoformat() if isinstance(v, datetime) else str(v) for v in items if v]
try:
    out = {key: values(raw) for key, raw in whois.parser.WhoisEntry.load(sys.argv[1], sys.stdin.read()).items()}
except WhoisDomainNotFoundError:
    out = None
except Exception as exc:
    out = f"{type(exc).__name__}: {exc}"[:300]
sys.stdout.write(json.dumps(out))
"""


def hostport(text: str) -> tuple[str, int] | None:
    """'whois.iana.org' -> ('whois.iana.org', 43); 'whois.test:4343' -> ('whois.test', 4343); else None."""
    host, _, port = text.strip().partition(":")
    port = port or "43"
    return (host.lower(), int(port)) if _HOST.match(host) and port.isdigit() and 0 < int(port) < 65536 else None


def whois_query(host: str, name: str) -> str:
    """The query line for `name` on the port-43 server `host` (lower case)."""
    for server, form in _QUERY_FORMS:
        if host.endswith(server) if server.startswith(".") else host == server:
            return form.format(name)
    return name


class WhoisOptions(AdapterOptions):
    rdap_url: UpstreamUrl | None = Field(
        None, description="Send every RDAP query here: {rdap_url}/domain/NAME, /ip/ADDR."
    )
    rdap_fallback_url: UpstreamUrl = Field(
        "https://rdap.org", description="RDAP redirector for what the bootstrap lacks."
    )
    bootstrap_url: UpstreamUrl = Field(rdap_bootstrap.DEFAULT_URL, description="Source of fresh IANA bootstrap files.")
    whois_server: str | None = Field(None, description="Port-43 server 'host[:port]'; default: IANA's referral.")
    iana_whois_server: str = Field("whois.iana.org:43", description="Port-43 server that refers a TLD to its own.")

    @field_validator("whois_server", "iana_whois_server")
    @classmethod
    def _check_server(cls, value: str | None) -> str | None:
        if value is not None and hostport(value) is None:
            raise ValueError(f"{value!r} is not 'host' or 'host:port', like 'whois.example.net:43'")
        return value


class WhoisAdapter(Adapter[WhoisOptions]):
    name = "whois"
    description = "Registration data of a domain (registrar, dates, status, name servers) or IP network, via RDAP"
    kinds = frozenset({TargetKind.DOMAIN, TargetKind.IPV4, TargetKind.IPV6})
    default_timeout_s = 15.0
    Options = WhoisOptions

    async def lookup(self, target: Target, ctx: Context) -> dict[str, Any]:
        base = self.options.rdap_url
        if base is None:
            bootstrap = await rdap_bootstrap.current(ctx, self.options.bootstrap_url)
            base = bootstrap.for_ip(target.value) if target.is_ip else bootstrap.for_domain(target.value)
        redirector = base is None  # the bootstrap lists no server for it: ask the redirector
        kind = "ip" if target.is_ip else "domain"
        url = f"{(base or self.options.rdap_fallback_url).rstrip('/')}/{kind}/{target.value}"
        if target.is_ip:  # every RIR runs RDAP, and python-whois has no parser for their answers
            answer = await ctx.http.get(url, headers=RDAP_HEADERS, upstream="rdap")
            if answer.status == 404:
                raise NotFound(f"{answer.where}: no such network")
            answer.raise_for_status()
            return rdap.rdap_data(answer.json(), answer.where, network=True)

        async def by_rdap(part: Context) -> dict[str, Any]:
            return await self._rdap_domain(url, redirector, part)

        async def by_port43(rest: Context, error: AdapterError) -> dict[str, Any]:
            return await self._port43(target.value, rest, None if isinstance(error, _NoRdapService) else error)

        # RDAP gets a share of the time; the rest is kept for port 43
        return await ctx.fallback(by_rdap, by_port43, share=0.6, names=("RDAP", "port 43"), when=_rdap_unavailable)

    async def _rdap_domain(self, url: str, redirector: bool, ctx: Context) -> dict[str, Any]:
        answer = await ctx.http.get(url, headers=RDAP_HEADERS, upstream="rdap")
        if answer.status == 404 and redirector and answer.host == urlsplit(url).hostname:
            raise _NoRdapService(f"{answer.where}: no RDAP service for it")  # the redirector knows none
        if answer.status == 404:
            raise NotFound(f"{answer.where}: no such domain")
        answer.raise_for_status()
        doc = answer.json()
        data = rdap.rdap_data(doc, answer.where, network=False)
        link = rdap.registrar_link(doc, url)
        return await self._registrar_record(data, link, url, ctx) if link else data

    @classmethod
    def data_schema(cls) -> dict[str, Any]:
        """JSON Schema of what `lookup` returns (whois_schema.py), for the published output schemas."""
        from .whois_schema import data_schema

        return data_schema()

    def summarize(self, data: dict[str, Any]) -> str:
        if "range" in data:  # an IP network
            head = " ".join(str(part) for part in (data.get("handle") or data.get("name"), data.get("range")) if part)
            parts = [head, data.get("country"), data.get("registrant")]
        else:
            parts = [f"registrar {data['registrar']}" if data.get("registrar") else None]
            for key in ("created", "expires"):  # an imprecise date as the registry wrote it
                when = str(data[key])[:10] if data.get(key) else data.get(f"{key}_text")
                parts.append(f"{key} {when}" if when else None)
            parts.append("via port 43" if data.get("source") == "whois" else None)
        return " · ".join(str(part) for part in parts if part) or "no registration data"

    async def _registrar_record(self, data: dict[str, Any], link: str, asked: str, ctx: Context) -> dict[str, Any]:
        """The one step from a registry's answer to the registrar's own record (`link`): one attempt,
        through ctx.http like every request, inside what is left of the call's time. It adds what the
        registry's answer lacks; when it fails, the registry's data stands, with a warning."""
        where = link.split("://", 1)[-1].split("?", 1)[0][:120]
        left = ctx.time_left()
        refused = inward_reason(asked, link)
        if refused or left < RELATED_MIN_S:
            why = f"refused: {refused}" if refused else f"not asked, {left:.1f} s left"
            return data | {"warnings": [*data["warnings"], f"registrar RDAP {where}: {why}"]}
        try:
            async with ctx.timeout(where):
                answer = await ctx.http.get(link, headers=RDAP_HEADERS, upstream="rdap", retry=False)
            answer.raise_for_status()
            added = rdap.add_registrar_record(data, answer.json())
        except TimeoutError as exc:
            problem = str(exc)
        except AdapterError as exc:
            problem = exc.message  # it names the host and path
        except ValueError as exc:  # not JSON, or not a domain object
            problem = f"{where}: {exc}"
        else:
            return data | {"registrar_server": answer.host or None, "registrar_added": added}
        return data | {"warnings": [*data["warnings"], f"registrar RDAP {problem}"]}

    async def _port43(self, name: str, ctx: Context, rdap_error: AdapterError | None) -> dict[str, Any]:
        """Port-43 WHOIS: the server IANA refers the TLD to (or `whois_server`), read by python-whois
        and the generic reader."""
        limit = self.options.max_body_bytes or min(ctx.max_body_bytes, WHOIS_MAX_BYTES)
        tld = name.rsplit(".", 1)[-1]
        found = hostport(self.options.whois_server) if self.options.whois_server else None
        if found is None:  # ask IANA; its answer is untrusted: only a plain host[:port] is followed
            iana = hostport(self.options.iana_whois_server)
            assert iana is not None  # checked with the options
            referral = (await _ask(*iana, tld, ctx, limit))[:WHOIS_SCAN_MAX]
            found = next((hp for m in _REFERRAL.finditer(referral) if (hp := hostport(m.group(1)))), None)
            why = found and referral_reason(iana, found, default_port=43)
            if found and why:
                refused = f"refused the referral from {iana[0]} to {found[0]}:{found[1]}: {why}"
                raise AdapterError("referral", refused)
            if found is None and "returned 0 objects" in referral:
                raise NotFound(f".{tld} is not a top-level domain")
            if found is None and rdap_error is None:
                raise Skip(f"no RDAP or WHOIS service for .{tld}")
            if found is None:
                raise AdapterError(rdap_error.type, f"{iana[0]} names no port-43 server for .{tld}")
        host, port = found
        answer = await _ask(host, port, whois_query(host, name), ctx, limit)
        data = await _whois_data(name, answer, f"{host}:{port}", ctx)
        return {**data, "rdap_error": rdap_error.message} if rdap_error else data

    def facts(self, data: dict[str, Any]) -> dict[str, Any] | None:  # osint_fanout.Facts
        """Registrar, name servers, expiry and statuses; an IP network's range and country. The
        expiry is its day in UTC, read again through the normal form (whois_dates.py), so that a
        result stored before dates took it ("2023-12-04T00:00:00+02:00") compares quietly with
        the same answer read now ("2023-12-03T22:00:00Z")."""
        found = {key: data[key] for key in ("registrar", "range", "country") if key in data}
        if "expires" in data:
            expires = str(data["expires"]) if data["expires"] else None
            found["expires"] = expires and (read_date(expires).value or expires)[:10]
        for key in ("nameservers", "status"):
            if key in data:
                found[key] = frozenset(str(value).lower() for value in data[key] or [])
        return found

    def assets(self, target: Target, data: dict[str, Any]) -> Findings | None:
        """A domain's registrar (registered-with), registrant (held-by), name servers and abuse
        contact; an address's networks (in-netblock, with name and country), their holder and
        abuse contact."""
        found = Findings()
        me = found.add(Findings.target_ref(target).type, target.value)
        about = [me]
        if "range" in data:  # an IP network
            attrs = {"name": data.get("name"), "country": data.get("country")}
            about = [found.add(AssetType.NETBLOCK, str(cidr), **attrs) for cidr in data.get("cidrs") or []]
            for block in about:
                found.relate(me, RelationKind.IN_NETBLOCK, block)
        else:
            if data.get("registrar"):
                registrar = found.add(AssetType.ORGANIZATION, str(data["registrar"]), role="registrar")
                found.relate(me, RelationKind.REGISTERED_WITH, registrar)
            for name in data.get("nameservers") or []:
                found.link(AssetType.DOMAIN, str(name), RelationKind.NAME_SERVER_OF, me)
        holder = data.get("registrant_org") or data.get("registrant")
        role = "network holder" if "range" in data else "registrant"
        org = found.add(AssetType.ORGANIZATION, str(holder), role=role) if holder else None
        abuse = found.add(AssetType.EMAIL, str(data["abuse_email"]), role="abuse") if data.get("abuse_email") else None
        for ref in about:
            found.relate(ref, RelationKind.HELD_BY, org)
            found.relate(abuse, RelationKind.CONTACT_OF, ref)
        return found


class _NoRdapService(AdapterError):
    """The redirector knows no RDAP server for the TLD: port 43 is the only way."""

    def __init__(self, message: str) -> None:
        super().__init__("http", message, status=404)


def _rdap_unavailable(error: AdapterError) -> bool:
    """RDAP could not be had (safely): no service, unreachable, too slow, a refused redirect,
    a server error. Port 43 is asked then; any other answer (401, 429, bad JSON) is final."""
    return (
        isinstance(error, _NoRdapService)
        or error.type in ("network", "timeout", "redirect")
        or (error.status or 0) >= 500
    )


async def _ask(host: str, port: int, query: str, ctx: Context, limit: int) -> str:
    """One port-43 exchange: send the query, read until the server closes (RFC 3912)."""
    raw = bytearray()
    try:
        async with ctx.timeout(f"{host}:{port}"):  # give up just before the core does, saying why
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(query.encode("ascii") + b"\r\n")
                await writer.drain()
                while chunk := await reader.read(65536):
                    raw += chunk
                    if len(raw) > limit:
                        raise AdapterError("too_large", f"{host}:{port} sent more than {limit} bytes")
            finally:
                writer.close()
    except TimeoutError:  # before OSError, which it is a subclass of
        raise
    except OSError as exc:
        raise AdapterError("network", f"{host}:{port}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # some registries still answer in a legacy 8-bit charset


class _Parsed(NamedTuple):
    values: dict[str, list[str]]
    """python-whois's reading: {key: [values]}."""
    failure: str | None = None
    """Why it read nothing, if it did not."""
    timed_out: bool = False


async def _parsed(name: str, text: str, server: str, ctx: Context) -> _Parsed:
    """python-whois's reading of `text`, from a child process killed when the call's time is up."""
    command = (sys.executable, "-P", "-X", "utf8", "-c", _PARSER, name)  # -P: no module from the working dir
    pipe = asyncio.subprocess.PIPE
    try:
        child = await asyncio.create_subprocess_exec(*command, stdin=pipe, stdout=pipe, stderr=pipe)
    except OSError as exc:
        return _Parsed({}, f"python-whois could not be started: {exc}")
    try:
        async with ctx.timeout("python-whois"):
            out, err = await child.communicate(text.encode())
    except TimeoutError as exc:
        return _Parsed({}, str(exc), timed_out=True)
    finally:
        if child.returncode is None:  # timed out, or the call was cancelled
            with contextlib.suppress(ProcessLookupError):
                child.kill()
            await child.wait()
    if child.returncode != 0 or not out:
        last = err.decode("utf-8", "replace").strip().rpartition("\n")[2]
        return _Parsed({}, f"python-whois failed (exit code {child.returncode}): {last[:200]}")
    result = json.loads(out)
    if result is None:
        raise NotFound(f"{server}: no such domain")
    if not isinstance(result, dict):
        return _Parsed({}, f"python-whois could not parse the answer: {result}")
    return _Parsed(result)


async def _whois_data(name: str, answer: str, server: str, ctx: Context) -> dict[str, Any]:
    """A port-43 answer's facts: python-whois's reading, checked and completed by the generic
    reader (whois_text.py), so that a field python-whois fails on costs that field, not the answer."""
    text = trimmed(answer)
    if _NOT_FOUND.search(text):
        raise NotFound(f"{server}: no such domain")
    if not text.strip():
        raise AdapterError("parse", f"{server} answered, but nothing in it could be read")
    parsed = await _parsed(name, text, server, ctx)
    found, warnings = whois_text.fields(text, parsed.values, name)
    if not any(found[key] for key in ("registrar", "created", "created_text", "expires", "status", "nameservers")):
        if parsed.timed_out:
            raise TimeoutError(f"{parsed.failure} ({server})")
        why = parsed.failure or repr(text.strip()[:80])
        raise AdapterError("parse", f"{server} answered, but nothing in it could be read: {why}")
    warnings = [parsed.failure, *warnings] if parsed.failure else warnings
    return {"source": "whois", "server": server, "name": name} | found | {"warnings": warnings}
