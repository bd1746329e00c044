"""Which RDAP server answers for a domain or an address: the IANA bootstrap registry (RFC 9224).

The package ships a snapshot of IANA's files (data/dns.json, ipv4.json, ipv6.json). When the copy
in use is over 30 days old, a process's first lookup fetches fresh files from `bootstrap_url` into
the user cache, within a slice of its own time. Any failure keeps the copy in use and holds further
attempts off for a day: the bootstrap never fails a lookup. Each bootstrap_url other than IANA's
has a cache folder of its own, so a mirror's files never replace IANA's for other configs."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from osint_fanout import inward_reason

if TYPE_CHECKING:
    from osint_fanout import Context

__all__ = ["DEFAULT_URL", "Bootstrap", "cache_dir", "current"]

log = logging.getLogger("osint_fanout.adapters.whois.bootstrap")

DEFAULT_URL = "https://data.iana.org/rdap"
BOOTSTRAP_FILES = ("dns", "ipv4", "ipv6")
BOOTSTRAP_MAX_AGE_S = 30 * 86400.0
REFRESH_RETRY_S = 86400.0  # after a failed refresh, leave the source alone for a day
REFRESH_MAX_S = 3.0  # a refresh gets at most this, and at most a fifth of the call's time


@dataclass(frozen=True)
class Bootstrap:
    """Base URLs of RDAP services by domain suffix and by IP network."""

    domains: dict[str, str]  # label suffix -> base URL
    networks: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]]  # longest prefix first
    as_of: float  # when this data was fresh (epoch seconds)

    @classmethod
    def parse(cls, docs: dict[str, Any], as_of: float, origin: str = DEFAULT_URL) -> Bootstrap:
        """`origin`: where the files came from; an entry leading further inward (or from https
        to http) is dropped, and what it served goes to the redirector instead."""
        domains = {entry.lower().strip("."): url for entry, url in _services(docs["dns"], origin)}
        # A malformed prefix is a ValueError: the whole file is rejected, and the old copy kept.
        networks = [
            (ipaddress.ip_network(e, strict=False), u) for n in ("ipv4", "ipv6") for e, u in _services(docs[n], origin)
        ]
        if not domains or not networks:
            raise ValueError("a bootstrap file has no services")
        return cls(domains, sorted(networks, key=lambda pair: pair[0].prefixlen, reverse=True), as_of)

    def for_domain(self, name: str) -> str | None:  # the longest matching label suffix
        labels = name.lower().split(".")
        return next((self.domains[s] for i in range(len(labels)) if (s := ".".join(labels[i:])) in self.domains), None)

    def for_ip(self, address: str) -> str | None:  # the longest matching prefix
        ip = ipaddress.ip_address(address)
        return next((url for network, url in self.networks if ip in network), None)


def _services(doc: Any, origin: str) -> list[tuple[str, str]]:
    """(entry, base URL) pairs of one bootstrap file; an https URL when a service has one, and
    none that `inward_reason` refuses coming from `origin`."""
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), list):
        raise ValueError("not an RFC 9224 bootstrap file")
    pairs: list[tuple[str, str]] = []
    for service in doc["services"]:
        if isinstance(service, list) and len(service) >= 2 and isinstance(service[0], list):
            listed = service[1] if isinstance(service[1], list) else []
            urls = [
                url
                for url in listed
                if isinstance(url, str) and url.startswith(("https:", "http:")) and not inward_reason(origin, url)
            ]
            url = next((u for u in urls if u.startswith("https:")), urls[0] if urls else None)
            pairs += [(entry, url) for entry in service[0] if isinstance(entry, str) and url]
    return pairs


def cache_dir(url: str) -> Path:
    """The user-cache folder of the files fetched from `url`; any URL but IANA's gets its own."""
    from platformdirs import user_cache_path  # here: only a run that reads the cache pays for it

    folder = user_cache_path("osint-fanout") / "rdap-bootstrap"
    if url.rstrip("/") == DEFAULT_URL:
        return folder
    return folder.with_name(f"rdap-bootstrap-{hashlib.sha256(url.rstrip('/').encode()).hexdigest()[:12]}")


@dataclass
class _Source:
    """This process's copy of one bootstrap_url's files, and its one attempt to refresh them."""

    url: str
    folder: Path
    bootstrap: Bootstrap | None = None
    refresh: asyncio.Task[None] | None = None


_sources: dict[str, _Source] = {}  # by bootstrap_url


async def current(ctx: Context, url: str) -> Bootstrap:
    """The bootstrap to use. When ours is over 30 days old, the process's first call starts one
    refresh and every call waits for it, each for at most a slice of its own time."""
    source = _sources.get(url)
    if source is None:
        source = _sources[url] = _Source(url, cache_dir(url))
    if source.bootstrap is None:  # files to read and parse: not in the event loop
        await ctx.run_blocking(_load, source)
    if source.refresh is None and time.time() - _load(source).as_of >= BOOTSTRAP_MAX_AGE_S:
        source.refresh = asyncio.ensure_future(_refresh(ctx, source))
    if source.refresh is not None and not source.refresh.done():
        await asyncio.wait({source.refresh}, timeout=min(REFRESH_MAX_S, ctx.time_left() / 5))
    return _load(source)


def _load(source: _Source) -> Bootstrap:
    """The user cache's copy when it is readable, else the snapshot shipped in the package."""
    if source.bootstrap is None:
        folder = source.folder
        try:
            docs = {name: json.loads((folder / f"{name}.json").read_bytes()) for name in BOOTSTRAP_FILES}
            as_of = min((folder / f"{name}.json").stat().st_mtime for name in BOOTSTRAP_FILES)
            source.bootstrap = Bootstrap.parse(docs, as_of, source.url)
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
            log.debug("no usable RDAP bootstrap in %s (%s); using the snapshot", folder, exc)
            if not isinstance(exc, FileNotFoundError):  # unreadable: discard it, so a refresh replaces it
                for name in BOOTSTRAP_FILES:
                    with contextlib.suppress(OSError):
                        (folder / f"{name}.json").unlink()
            data = resources.files(__package__) / "data"
            docs = {name: json.loads((data / f"{name}.json").read_bytes()) for name in BOOTSTRAP_FILES}
            published = max(datetime.fromisoformat(doc["publication"]).timestamp() for doc in docs.values())
            source.bootstrap = Bootstrap.parse(docs, published)
    return source.bootstrap


def _save(folder: Path, bodies: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in bodies.items():  # each file whole or not at all
        (folder / f"{name}.json.tmp").write_bytes(body)
        os.replace(folder / f"{name}.json.tmp", folder / f"{name}.json")


async def _refresh(ctx: Context, source: _Source) -> None:
    """Fetch fresh bootstrap files into the user cache. Any problem keeps the current copy (and
    holds further attempts off for a day): the run never fails over it."""
    folder, stamp = source.folder, source.folder / "refresh-failed"
    if stamp.exists() and time.time() - stamp.stat().st_mtime < REFRESH_RETRY_S:
        return
    try:
        slice_s, url = min(REFRESH_MAX_S, ctx.time_left() / 5), source.url.rstrip("/")
        gets = [ctx.http.get(f"{url}/{name}.json", upstream="bootstrap", timeout_s=slice_s) for name in BOOTSTRAP_FILES]
        answers = dict(zip(BOOTSTRAP_FILES, await asyncio.gather(*gets), strict=True))
        for answer in answers.values():
            answer.raise_for_status()
        fresh = Bootstrap.parse({name: answer.json() for name, answer in answers.items()}, time.time(), url)
        await ctx.run_blocking(_save, folder, {name: answer.body for name, answer in answers.items()})
        source.bootstrap = fresh
        stamp.unlink(missing_ok=True)
        log.debug("RDAP bootstrap refreshed from %s into %s", url, folder)
    except Exception as exc:  # whatever it is, the snapshot or the cache still works
        log.debug("RDAP bootstrap refresh failed, keeping the current copy: %r", exc)
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
            stamp.touch()
