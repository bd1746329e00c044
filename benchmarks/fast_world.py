"""A lean loopback upstream for throughput benchmarks, where tests/world's thread-per-request
servers would be the bottleneck: asyncio HTTP (keep-alive) and DNS servers that answer
every request with a canned answer in the real formats, after a set latency.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import dns.message
import dns.rrset

from tests.world.templates import render
from tests.world.world import zone_records

# Path prefix -> fixture (written for example.com / 198.51.100.7).
ROUTES = (
    ("/shodan/host/", "shodan/host.json", "198.51.100.7"),
    ("/dns/domain/", "shodan/dns_domain.json", "example.com"),
    ("/api/v3/domains/", "virustotal/domain.json", "example.com"),
    ("/api/v3/ip_addresses/", "virustotal/ip_address.json", "198.51.100.7"),
    ("/domain/", "whois/rdap_domain.json", "example.com"),
    ("/ip/", "whois/rdap_ip.json", "198.51.100.7"),
    ("/?q=", "ct/crtsh.json", "example.com"),
    ("/v1/issuances", "ct/certspotter.json", "example.com"),
)


class FastWorld:
    """`with FastWorld(latency_s=0.05) as world:` then `world.config_toml(...)`."""

    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s
        self.bodies = [(prefix, render(name, target)) for prefix, name, target in ROUTES]
        self.dns_cache: dict[bytes, bytes] = {}
        self.requests = 0
        self.first_dns_at: float | None = None
        """time.monotonic() when the first DNS query arrived (None: none yet); reset it to None."""
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> FastWorld:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    async def _start(self) -> None:
        server = await asyncio.start_server(self._http, "127.0.0.1", 0, backlog=1024)
        self.http_port = server.sockets[0].getsockname()[1]
        transport, _ = await self.loop.create_datagram_endpoint(lambda: _Dns(self), local_addr=("127.0.0.1", 0))
        self.dns_port = transport.get_extra_info("sockname")[1]

    async def _http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                self.requests += 1
                body = next((b for prefix, b in self.bodies if path.startswith(prefix)), b'{"ip": "198.51.100.7"}')
                await asyncio.sleep(self.latency_s)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            writer.close()

    def answer_dns(self, data: bytes) -> bytes:
        """The answer to a query, built once per question and re-stamped with its ID."""
        key = data[12:]
        if key not in self.dns_cache:
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            question = query.question[0]
            records = zone_records(question.name.to_text(omit_final_dot=True).lower()) or {}
            values = records.get(dns.rdatatype.to_text(question.rdtype), [])
            if values:
                response.answer.append(dns.rrset.from_text(question.name, 300, "IN", question.rdtype, *values))
            self.dns_cache[key] = response.to_wire()
        return data[:2] + self.dns_cache[key][2:]

    def config_toml(self, path: Path, *, concurrency: int, quotas_off: bool = False, **run: Any) -> Path:
        """`quotas_off`: no daily quota either (a benchmark counts calls made, not skipped;
        the code from before quotas does not know the option)."""
        http = f"http://127.0.0.1:{self.http_port}"
        lines = [f"[run]\nconcurrency = {concurrency}"] + [f"{k} = {v!r}" for k, v in run.items()]
        for name, options in {
            "dns": f'nameservers = ["127.0.0.1:{self.dns_port}"]',
            "whois": f'rdap_url = "{http}"',
            "ct": f'crtsh_url = "{http}"\ncertspotter_url = "{http}"',
            "shodan": f'base_url = "{http}"\ninternetdb_url = "{http}"\napi_key = "bench-shodan-key"',
            "virustotal": f'base_url = "{http}/api/v3"\napi_key = "bench-vt-key"',
        }.items():
            quota = '\nquota = "off"' if quotas_off else ""
            lines.append(f'[adapters.{name}]\nrate_limit = "off"{quota}\n{options}')
        path.write_text("\n".join(lines) + "\n")
        return path


class _Dns(asyncio.DatagramProtocol):
    def __init__(self, world: FastWorld) -> None:
        self.world = world

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.world.first_dns_at is None:
            self.world.first_dns_at = time.monotonic()
        self.world.requests += 1
        wire = self.world.answer_dns(data)
        self.world.loop.call_later(self.world.latency_s, self.transport.sendto, wire, addr)  # type: ignore[attr-defined]
