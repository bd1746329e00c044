"""Registration data of a domain or an IP network: RDAP first (RFC 9083), its server found
through the IANA bootstrap (rdap_bootstrap.py); port-43 WHOIS (RFC 3912) for registries without
RDAP, its answer read by python-whois in a child process."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import re
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from osint_fanout import Adapter, AdapterError, AdapterOptions, Context, NotFound, Skip, Target, TargetKind, UpstreamUrl

from . import rdap_bootstrap

if TYPE_CHECKING:
    from osint_fanout import HttpResponse

WHOIS_MAX_BYTES = 1024 * 1024  # what a port-43 server may send
# What is read of it: registries put the facts first, and python-whois's time grows faster than
# the text (with the square of a line's length, for one), so it gets lines of at most
# WHOIS_LINE_MAX characters, WHOIS_TEXT_MAX in all, from the first WHOIS_SCAN_MAX of the answer.
WHOIS_SCAN_MAX = 64 * 1024
WHOIS_TEXT_MAX = 16 * 1024
WHOIS_LINE_MAX = 256
RDAP_HEADERS = {"Accept": "application/rdap+json"}  # RFC 7480 section 4.2
_LISTS = ("entities", "events", "status", "nameservers", "cidr0_cidrs")  # RFC 9083 arrays we read
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
        fallback = base is None  # the bootstrap lists no server for it: ask the redirector
        kind = "ip" if target.is_ip else "domain"
        url = f"{(base or self.options.rdap_fallback_url).rstrip('/')}/{kind}/{target.value}"
        if target.is_ip:  # every RIR runs RDAP, and python-whois has no parser for their answers
            answer = await ctx.http.get(url, headers=RDAP_HEADERS, upstream="rdap")
            if answer.status == 404:
                raise NotFound(f"{answer.where}: no such network")
            answer.raise_for_status()
            return _rdap_data(answer, network=True)
        try:  # RDAP gets a share of the time; the rest is kept for port 43
            answer = await ctx.http.get(url, headers=RDAP_HEADERS, upstream="rdap", timeout_s=ctx.time_left() * 0.6)
        except AdapterError as exc:
            if exc.type not in ("network", "timeout"):
                raise
            return await self._port43(target.value, ctx, exc)
        if answer.status == 404 and fallback and answer.host == urlsplit(url).hostname:
            return await self._port43(target.value, ctx, None)  # the redirector knows no RDAP server
        if answer.status == 404:
            raise NotFound(f"{answer.where}: no such domain")
        if answer.status >= 500:
            error = AdapterError("http", f"HTTP {answer.status} from {answer.where}: {answer.excerpt()}")
            return await self._port43(target.value, ctx, error)
        answer.raise_for_status()
        return _rdap_data(answer, network=False)

    def summarize(self, data: dict[str, Any]) -> str:
        if "range" in data:  # an IP network
            head = " ".join(str(part) for part in (data.get("handle") or data.get("name"), data.get("range")) if part)
            parts = [head, data.get("country"), data.get("registrant")]
        else:
            parts = [f"registrar {data['registrar']}" if data.get("registrar") else None]
            parts += [f"{key} {str(data[key])[:10]}" for key in ("created", "expires") if data.get(key)]
            parts.append("via port 43" if data.get("source") == "whois" else None)
        return " · ".join(str(part) for part in parts if part) or "no registration data"

    async def _port43(self, name: str, ctx: Context, rdap_error: AdapterError | None) -> dict[str, Any]:
        """Port-43 WHOIS: the server IANA refers the TLD to (or `whois_server`), read by python-whois."""
        limit = self.options.max_body_bytes or min(ctx.max_body_bytes, WHOIS_MAX_BYTES)
        tld = name.rsplit(".", 1)[-1]
        try:
            found = hostport(self.options.whois_server) if self.options.whois_server else None
            if found is None:  # ask IANA; its answer is untrusted: only a plain host[:port] is followed
                iana = hostport(self.options.iana_whois_server)
                assert iana is not None  # checked with the options
                referral = (await _ask(*iana, tld, ctx, limit))[:WHOIS_SCAN_MAX]
                found = next((hp for m in _REFERRAL.finditer(referral) if (hp := hostport(m.group(1)))), None)
                if found is None and "returned 0 objects" in referral:
                    raise NotFound(f".{tld} is not a top-level domain")
                if found is None:
                    raise rdap_error or Skip(f"no RDAP or WHOIS service for .{tld}")
            host, port = found
            answer = await _ask(host, port, whois_query(host, name), ctx, limit)
            data = await _whois_data(name, answer, f"{host}:{port}", ctx)
        except AdapterError as exc:
            if rdap_error is None or exc is rdap_error:
                raise
            raise AdapterError(exc.type, f"{exc.message} (after RDAP failed: {rdap_error.message})") from None
        return {**data, "rdap_error": rdap_error.message} if rdap_error else data

    def facts(self, data: dict[str, Any]) -> dict[str, Any] | None:  # osint_fanout.Facts
        """Registrar, name servers, expiry (the day: RDAP and port 43 write times
        differently) and statuses; an IP network's range and country."""
        found = {key: data[key] for key in ("registrar", "range", "country") if key in data}
        if "expires" in data:
            found["expires"] = str(data["expires"])[:10] if data["expires"] else None
        for key in ("nameservers", "status"):
            if key in data:
                found[key] = frozenset(str(value).lower() for value in data[key] or [])
        return found


async def _ask(host: str, port: int, query: str, ctx: Context, limit: int) -> str:
    """One port-43 exchange: send the query, read until the server closes (RFC 3912)."""
    wait_s = max(0.0, ctx.time_left() - 0.1)  # give up just before the core's own timeout, saying why
    raw = bytearray()
    try:
        async with asyncio.timeout(wait_s):
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
        raise TimeoutError(f"{host}:{port} did not answer within {wait_s:.1f} s") from None
    except OSError as exc:
        raise AdapterError("network", f"{host}:{port}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # some registries still answer in a legacy 8-bit charset


def _trimmed(answer: str) -> str:
    """The part of a port-43 answer python-whois reads (see WHOIS_SCAN_MAX): lines of at most
    WHOIS_LINE_MAX characters (longer ones are prose or DNSSEC keys), one empty line for a run of
    them. Linear, and at most about 10 ms whatever the answer."""
    kept: list[str] = []
    size = 0
    for line in io.StringIO(answer[:WHOIS_SCAN_MAX], newline=None):  # CR LF, CR or LF: a line
        stripped = line.rstrip()
        if len(stripped) > WHOIS_LINE_MAX or (not stripped and kept and not kept[-1]):
            continue
        size += len(stripped) + 1
        if size > WHOIS_TEXT_MAX:
            break
        kept.append(stripped)
    return "\n".join(kept)


async def _parsed(name: str, text: str, server: str, ctx: Context) -> dict[str, list[str]]:
    """python-whois's reading of `text`, from a child process killed when the call's time is up."""
    wait_s = max(0.0, ctx.time_left() - 0.1)
    command = (sys.executable, "-P", "-X", "utf8", "-c", _PARSER, name)  # -P: no module from the working dir
    pipe = asyncio.subprocess.PIPE
    try:
        child = await asyncio.create_subprocess_exec(*command, stdin=pipe, stdout=pipe, stderr=pipe)
    except OSError as exc:
        raise AdapterError("parse", f"python-whois could not be started: {exc}") from None
    try:
        async with asyncio.timeout(wait_s):
            out, err = await child.communicate(text.encode())
    except TimeoutError:
        raise TimeoutError(f"python-whois did not read {server}'s answer within {wait_s:.1f} s") from None
    finally:
        if child.returncode is None:  # timed out, or the call was cancelled
            with contextlib.suppress(ProcessLookupError):
                child.kill()
            await child.wait()
    if child.returncode != 0 or not out:
        last = err.decode("utf-8", "replace").strip().rpartition("\n")[2]
        raise AdapterError("parse", f"python-whois failed (exit code {child.returncode}): {last[:200]}")
    result = json.loads(out)
    if result is None:
        raise NotFound(f"{server}: no such domain")
    if not isinstance(result, dict):
        raise AdapterError("parse", f"{server}: python-whois could not parse the answer: {result}")
    return result


async def _whois_data(name: str, answer: str, server: str, ctx: Context) -> dict[str, Any]:
    text = _trimmed(answer)
    if _NOT_FOUND.search(text):
        raise NotFound(f"{server}: no such domain")
    if not text.strip():
        raise AdapterError("parse", f"{server} answered, but nothing in it could be read")
    values = await _parsed(name, text, server, ctx)
    first = {key: v[0] for key, v in values.items() if v}
    # Two lines python-whois's generic parser skips, though RDAP answers carry both.
    iana_id = re.search(r"Registrar IANA ID:[ \t]*(\d+)", text)
    abuse = re.search(r"Registrar Abuse Contact Email:[ \t]*(\S+@\S+)", text)
    dnssec = str(first.get("dnssec", "")).lower()
    data = {
        "source": "whois",
        "server": server,
        "name": name,
        "registrar": first.get("registrar"),
        "registrar_iana_id": iana_id and iana_id.group(1),
        "created": first.get("creation_date"),
        "expires": first.get("expiration_date"),
        "updated": first.get("updated_date"),
        # EPP's "clientTransferProhibited https://..." as RDAP's "client transfer prohibited" (RFC 8056)
        "status": sorted(
            {re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(s).split()[0]).lower() for s in values.get("status", [])}
        ),
        "nameservers": sorted({str(ns).lower().rstrip(".") for ns in values.get("name_servers", [])}),
        "dnssec": dnssec.startswith(("signed", "yes")) if dnssec else None,
        "abuse_email": abuse and abuse.group(1),
    }
    if not any(data[key] for key in ("registrar", "created", "expires", "status", "nameservers")):
        raise AdapterError("parse", f"{server} answered, but nothing in it could be read: {text.strip()[:80]!r}")
    return data


def _rdap_data(answer: HttpResponse, network: bool) -> dict[str, Any]:
    """What an RDAP domain or "ip network" object (RFC 9083 sections 5.3, 5.4) says."""
    doc = answer.json()
    object_class, key = ("ip network", "startAddress") if network else ("domain", "ldhName")
    ok = isinstance(doc, dict) and (doc.get("objectClassName") == object_class or key in doc)
    if not ok or not isinstance(doc.get(key, ""), str) or any(not isinstance(doc.get(m, []), list) for m in _LISTS):
        raise AdapterError("parse", f"{answer.where} did not answer an RDAP {object_class} object")
    actions = [(_get(e, "eventAction"), _get(e, "eventDate")) for e in reversed(doc.get("events", []))]
    events = {action: date for action, date in actions if isinstance(action, str)}  # the first of each wins
    common = {
        "source": "rdap",
        "server": answer.where.split("/", 1)[0],
        "handle": doc.get("handle"),
        "status": [status for status in doc.get("status", []) if isinstance(status, str)],
        "created": events.get("registration"),
        "updated": events.get("last changed"),
    }
    if network:
        owner = _role(doc, "registrant") or {}
        start, end = doc.get("startAddress"), doc.get("endAddress")
        cidrs = [(_get(c, "v4prefix") or _get(c, "v6prefix"), _get(c, "length")) for c in doc.get("cidr0_cidrs", [])]
        return common | {
            "name": doc.get("name"),
            "type": doc.get("type"),
            "range": f"{start} - {end}" if start and end else None,
            "cidrs": [f"{prefix}/{length}" for prefix, length in cidrs if prefix and length is not None],
            "country": doc.get("country"),
            "registrant": _vcard(owner, "fn") or _vcard(owner, "org") or owner.get("handle"),
            "abuse_email": _vcard(_role(doc, "abuse") or {}, "email"),
        }
    registrar = _role(doc, "registrar") or {}
    ids = [_get(p, "identifier") for p in _list(registrar.get("publicIds")) if _get(p, "type") == "IANA Registrar ID"]
    nameservers = [_get(ns, "ldhName") for ns in doc.get("nameservers", [])]
    return common | {
        "name": str(doc.get("ldhName") or "").lower() or None,
        "registrar": _vcard(registrar, "fn"),
        "registrar_iana_id": ids[0] if ids else None,
        "expires": events.get("expiration"),
        "nameservers": sorted({ns.lower().rstrip(".") for ns in nameservers if isinstance(ns, str)}),
        "dnssec": _get(doc.get("secureDNS"), "delegationSigned"),
        "abuse_email": _vcard(_role(registrar, "abuse") or _role(doc, "abuse") or {}, "email"),
        "registrant": _vcard(_role(doc, "registrant") or {}, "fn"),
    }


def _role(obj: dict[str, Any], role: str, depth: int = 0) -> dict[str, Any] | None:
    """The first entity with `role`, nested ones included (abuse sits inside registrar)."""
    for entity in _list(obj.get("entities")) if depth < 8 else []:
        if isinstance(entity, dict):
            if role in _list(entity.get("roles")):
                return entity
            if found := _role(entity, role, depth + 1):
                return found
    return None


def _vcard(entity: dict[str, Any], prop: str) -> str | None:
    """A property of a jCard (RFC 7095): ["vcard", [["fn", {}, "text", "Example"], ...]]."""
    card = _list(entity.get("vcardArray"))
    for item in _list(card[1]) if len(card) > 1 else []:
        if isinstance(item, list) and len(item) >= 4 and item[0] == prop:
            value = " ".join(str(part) for part in item[3] if part) if isinstance(item[3], list) else item[3]
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _get(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else None
