"""The README's complete plugin package, built from the README's own text: installed with
pip, its own tests run with osint_fanout.testing, and the installed CLI runs it against a
loopback server. If the README's example stops working, this fails."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.plugin_kit import clean_env, run_cli

README = Path(__file__).parents[1] / "docs" / "plugins.md"  # the README links to it
BLOCK = re.compile(r"```(?:python|toml)\n# (example-plugin/[^\n]+)\n(.*?)```", re.S)


def readme_files() -> dict[str, str]:
    """Path -> text of every README code block that starts with `# example-plugin/...`."""
    found = {path: body for path, body in BLOCK.findall(README.read_text(encoding="utf-8"))}
    assert set(found) >= {
        "example-plugin/pyproject.toml",
        "example-plugin/osint_fanout_hosts/__init__.py",
        "example-plugin/tests/test_hosts.py",
    }, sorted(found)
    return found


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("readme")
    for path, body in readme_files().items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(body, encoding="utf-8")
    site = root / "site"
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target", str(site),
         str(root / "example-plugin")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert pip.returncode == 0, pip.stderr
    return site


def test_the_plugins_own_tests_pass_with_the_testing_kit(installed: Path) -> None:
    tests = installed.parent / "example-plugin" / "tests"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)],
        env=clean_env(installed.parent, pythonpath=installed),
        cwd=installed.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout


class _Api(BaseHTTPRequestHandler):
    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("x-api-key")))
        if self.path == "/domains/example.com":
            body, status = json.dumps({"hosts": ["www.example.com", "mail.example.com"]}).encode(), 200
        else:
            body, status = b'{"error": "no such domain"}', 404
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Api.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_installed_plugin_is_listed_and_runs(installed: Path, api: str, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[adapters.hosts]\nbase_url = "{api}"\n')
    env = clean_env(tmp_path, {"HOSTS_API_KEY": "hosts-key-0123456789"}, pythonpath=installed)
    listing, _ = run_cli(["adapters", "--format", "json", "-c", str(config)], env)
    rows = {row["name"]: row for row in json.loads(listing.stdout)["adapters"]}
    assert rows["hosts"]["package"] == "osint-fanout-hosts"
    assert rows["hosts"]["options"]["base_url"]["description"] == "Where the API lives."
    proc, _ = run_cli(["search", "example.com", "nothing.example", "-a", "hosts", "-c", str(config)], env)
    reports = {r["target"]["value"]: r["results"][0] for r in map(json.loads, proc.stdout.splitlines())}
    assert reports["example.com"]["data"] == {"hosts": ["www.example.com", "mail.example.com"]}
    assert reports["example.com"]["summary"] == "2 hosts"
    assert reports["nothing.example"]["status"] == "empty"
    assert proc.returncode == 0, proc.stderr
    assert ("/domains/example.com", "hosts-key-0123456789") in _Api.seen  # loopback: the key may go over http
