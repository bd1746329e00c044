"""Helpers for the report's and the exports' tests (and benchmarks/report.py): stored
asset graphs built by hand, and headless Chromium driven over the DevTools protocol."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from osint_fanout.assets import (
    Asset,
    AssetGraph,
    AssetRef,
    AssetType,
    Relation,
    RelationKind,
    Seen,
    StoredAsset,
    StoredRelation,
)

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
HOSTILE = [
    "<img src=x onerror=\"window.pwned='img'\">",
    "</script><script>window.pwned='script'</script>",
    "<!-- \u2028 \u2029 & &amp; ${window.pwned='template'}",
    '"><svg onload="window.pwned=\'svg\'">',
]
"""Organisation names and attribute values an upstream could send (free text in the model)."""


class GraphBuilder:
    """An AssetGraph built by hand: each add/relate is stored as seen by one adapter."""

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self._assets: dict[AssetRef, StoredAsset] = {}
        self._relations: dict[Relation, StoredRelation] = {}
        self._clock = itertools.count()

    def _when(self) -> tuple[datetime, datetime]:
        tick = next(self._clock)
        return T0 + timedelta(minutes=tick % 997), NOW - timedelta(minutes=tick % 613)

    def add(
        self,
        kind: AssetType,
        value: str,
        *,
        adapter: str = "dns",
        target: str | None = None,
        depth: int | None = None,
        **attrs: Any,
    ) -> AssetRef:
        ref = AssetRef(kind, value)
        first, last = self._when()
        seen = Seen(adapter, target or self.seed, first)
        known = self._assets.get(ref)
        if known is None:
            self._assets[ref] = StoredAsset(Asset(ref, attrs), first, last, [seen], depth)
        else:
            known.asset.attrs.update(attrs)
            if depth is not None:
                known.depth = depth if known.depth is None else min(known.depth, depth)
        return ref

    def relate(self, source: AssetRef, kind: RelationKind, target: AssetRef, *, adapter: str = "dns") -> None:
        relation = Relation(source, kind, target)
        if relation not in self._relations:
            first, last = self._when()
            self._relations[relation] = StoredRelation(relation, first, last, [Seen(adapter, self.seed, first)])

    def graph(self) -> AssetGraph:
        return AssetGraph(self.seed, list(self._assets.values()), list(self._relations.values()))


def small_graph(seed: str = "example.com") -> AssetGraph:
    """A seed with a few names, addresses, a network, an AS, a certificate and services;
    one of each colour: malicious, RDP open, certificate expiring, CVEs."""
    g = GraphBuilder(seed)
    root = g.add(AssetType.DOMAIN, seed, depth=0, malicious=0, suspicious=0)
    registrar = g.add(AssetType.ORGANIZATION, "Example Registrar, Inc.", adapter="whois", role="registrar")
    g.relate(root, RelationKind.REGISTERED_WITH, registrar, adapter="whois")
    net = g.add(AssetType.NETBLOCK, "192.0.2.0/24", adapter="asn", name="EXAMPLE-NET", country="US")
    asn = g.add(AssetType.AS, "AS64500", adapter="asn", name="EXAMPLE-AS", country="US")
    g.relate(net, RelationKind.ANNOUNCED_BY, asn, adapter="asn")
    holder = g.add(AssetType.ORGANIZATION, "Example Hosting", adapter="asn", role="network holder")
    g.relate(asn, RelationKind.HELD_BY, holder, adapter="asn")
    for n, (name, ip, port) in enumerate(
        [("www", "192.0.2.10", 443), ("mail", "192.0.2.25", 25), ("vpn", "192.0.2.33", 3389), ("old", "192.0.2.66", 22)]
    ):
        sub = g.add(AssetType.DOMAIN, f"{name}.{seed}", adapter="ct", depth=1, malicious=3 if name == "old" else 0)
        g.relate(sub, RelationKind.SUBDOMAIN_OF, root, adapter="ct")
        addr = g.add(AssetType.IPV4, ip, target=f"{name}.{seed}", depth=2 if n < 2 else None)
        g.relate(sub, RelationKind.RESOLVES_TO, addr)
        g.relate(addr, RelationKind.IN_NETBLOCK, net, adapter="asn")
        cves = ["CVE-2023-48795"] if port == 22 else []
        service = g.add(
            AssetType.SERVICE,
            f"{ip}:{port}/tcp",
            adapter="shodan",
            target=ip,
            port=port,
            protocol="tcp",
            product="OpenSSH" if port == 22 else "nginx",
            cves=cves,
        )
        g.relate(addr, RelationKind.HAS_SERVICE, service, adapter="shodan")
    cert = g.add(
        AssetType.CERTIFICATE,
        "ab" * 32,
        adapter="ct",
        issuer="Example CA",
        serial="0a1b",
        not_before="2026-09-20T00:00:00Z",
        not_after=(NOW + timedelta(days=9)).isoformat(),
        names=[seed, f"www.{seed}"],
    )
    g.relate(cert, RelationKind.COVERS, root, adapter="ct")
    g.relate(cert, RelationKind.COVERS, AssetRef(AssetType.DOMAIN, f"www.{seed}"), adapter="ct")
    mail = g.add(AssetType.EMAIL, f"hostmaster@{seed}", adapter="whois")
    g.relate(mail, RelationKind.CONTACT_OF, root, adapter="whois")
    six = g.add(AssetType.IPV6, "2001:db8::10", target=f"www.{seed}")
    g.relate(AssetRef(AssetType.DOMAIN, f"www.{seed}"), RelationKind.RESOLVES_TO, six)
    return g.graph()


def hostile_graph(seed: str = "example.com") -> AssetGraph:
    """small_graph plus organisations named with HOSTILE strings, and hostile attrs."""
    graph = small_graph(seed)
    g = GraphBuilder(seed)
    g._assets = {item.ref: item for item in graph.assets}
    g._relations = {item.relation: item for item in graph.relations}
    root = AssetRef(AssetType.DOMAIN, seed)
    for text in HOSTILE:
        org = g.add(AssetType.ORGANIZATION, text, adapter="whois", role=text, note=text)
        g.relate(root, RelationKind.HELD_BY, org, adapter="whois")
    return g.graph()


def large_graph(assets: int = 2000, relations: int = 4000, seed: str = "example.com") -> AssetGraph:
    """About `assets` assets and `relations` relations shaped like a pivoted run: names under
    the seed resolving to addresses in a few networks of a few ASes, services, certificates
    covering several names each; a few malicious names and risky services."""
    g = GraphBuilder(seed)
    root = g.add(AssetType.DOMAIN, seed, depth=0)
    ases = [g.add(AssetType.AS, f"AS{64500 + n}", adapter="asn", name=f"NET-{n}", country="US") for n in range(8)]
    nets = []
    for n in range(40):
        net = g.add(AssetType.NETBLOCK, f"198.{18 + n // 20}.{(n % 20) * 8}.0/21", adapter="asn")
        g.relate(net, RelationKind.ANNOUNCED_BY, ases[n % len(ases)], adapter="asn")
        nets.append(net)
    names: list[AssetRef] = []
    n = 0
    while len(g._assets) < assets and len(g._relations) < relations - 8:
        name = g.add(AssetType.DOMAIN, f"host{n}.{seed}", adapter="ct", depth=1, malicious=2 if n % 97 == 5 else 0)
        g.relate(name, RelationKind.SUBDOMAIN_OF, root, adapter="ct")
        names.append(name)
        ip = g.add(
            AssetType.IPV4,
            f"198.{18 + (n // 2) // 5000}.{(n // 2) // 250 % 160}.{(n // 2) % 250 + 1}",
            target=f"host{n}.{seed}",
            depth=2 if n % 3 else None,
        )
        g.relate(name, RelationKind.RESOLVES_TO, ip)
        g.relate(ip, RelationKind.IN_NETBLOCK, nets[(n // 2) % len(nets)], adapter="asn")
        if n % 2 == 0:
            port = (443, 80, 22, 3389, 6379)[(n // 2) % 5] if n % 11 else 445
            service = g.add(AssetType.SERVICE, f"{g._assets[ip].ref.value}:{port}/tcp", adapter="shodan", port=port)
            g.relate(ip, RelationKind.HAS_SERVICE, service, adapter="shodan")
        if n % 4 == 0:
            cert = g.add(
                AssetType.CERTIFICATE,
                f"{n:064x}",
                adapter="ct",
                not_after=(NOW + timedelta(days=(n % 120) - 10)).isoformat(),
            )
            for other in names[-6:]:
                g.relate(cert, RelationKind.COVERS, other, adapter="ct")
        n += 1
    return g.graph()


class Browser:
    """Headless Chromium (Debian's `chromium`) driven over the DevTools protocol: one page,
    with its console, exceptions, dialogs and network requests recorded."""

    def __init__(self, width: int = 1400, height: int = 1000) -> None:
        from websockets.sync.client import connect

        self.profile = Path(tempfile.mkdtemp(prefix="report-chromium-"))
        self.process = subprocess.Popen(
            [
                chromium_path() or "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port = self._port()
        import httpx

        pages = [t for t in httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=30).json() if t["type"] == "page"]
        self._stack = contextlib.ExitStack()
        url = pages[0]["webSocketDebuggerUrl"]
        self.socket = self._stack.enter_context(connect(url, max_size=None, open_timeout=30))
        self._ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def _port(self) -> int:
        marker = self.profile / "DevToolsActivePort"
        for _ in range(1800):  # Chromium writes it once it listens; a busy machine takes seconds
            if marker.exists() and marker.read_text().strip():
                return int(marker.read_text().split()[0])
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.process.returncode}")
            time.sleep(0.1)
        raise RuntimeError("chromium did not open its DevTools port within 180 s")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self._ids)
        self.socket.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=300))
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        answer = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in answer:
            raise RuntimeError(f"{expression}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def open(self, path: Path, *, until: str = "document.body && document.body.dataset.drawn === 'true'") -> None:
        self.call("Page.navigate", url=path.resolve().as_uri())
        self.wait_for(until)

    def wait_for(self, expression: str, timeout_s: float = 180) -> None:
        """Poll until `expression` is true; the bound only stops a hang (a busy machine is slow)."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            with contextlib.suppress(RuntimeError):
                if self.evaluate(f"Boolean({expression})"):
                    return
            time.sleep(0.05)
        raise AssertionError(f"not true within {timeout_s} s: {expression}")

    def click(self, x: float, y: float) -> None:
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def screenshot(self) -> bytes:
        return base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])

    def console_errors(self) -> list[str]:
        """Console errors, uncaught exceptions and browser log errors (a CSP violation is one)."""
        self.call("Runtime.evaluate", expression="1")  # drain what has arrived
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(json.dumps(params["exceptionDetails"])[:500])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(json.dumps(params.get("args"))[:500])
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.append(params["entry"].get("text", ""))
        return found

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def dialogs(self) -> list[str]:
        return [e["params"]["message"] for e in self.events if e.get("method") == "Page.javascriptDialogOpening"]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._stack.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextlib.contextmanager
def browser() -> Iterator[Browser]:
    with Browser() as opened:
        yield opened
