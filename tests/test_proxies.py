"""Proxy variables: every unusable value is a usage error naming the variable, never its
credentials; a proxy that cannot be reached is an error of its own type naming the proxy,
not the target (issue 18)."""

from __future__ import annotations

import socket

import pytest

from osint_fanout._proxy import check_proxies, proxy_for
from tests.world.world import World

SECRET = "s3cret-proxy-pw"
BAD = [
    "notaurl",
    f"http://user:{SECRET}@[bad",
    "http://proxy:99999",
    "http://proxy:0",
    f"http://user:{SECRET}@proxy:port",
    "ftp://proxy:21",
    "http://:3128",
    "proxy:",
    "http://pro xy:3128",
]
GOOD = ["http://proxy:3128", "proxy:3128", f"http://user:{SECRET}@proxy:8080", "https://[2001:db8::1]:443"]


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize("name", ["HTTPS_PROXY", "http_proxy", "ALL_PROXY"])
def test_an_unusable_proxy_value_is_refused_naming_the_variable_only(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"^{name} in the environment is not a usable proxy: ") as caught:
        check_proxies({name: value})
    assert SECRET not in str(caught.value) and "proxy:" not in str(caught.value).split(": ", 1)[1]


@pytest.mark.parametrize("value", GOOD)
def test_a_usable_proxy_value_passes(value: str) -> None:
    check_proxies({"HTTPS_PROXY": value})


def test_the_proxy_of_a_request_is_found_as_httpx_finds_it() -> None:
    env = {"HTTPS_PROXY": f"http://u:{SECRET}@px:8080", "all_proxy": "other:1080", "NO_PROXY": "skip.example"}
    found = proxy_for("https", "example.com", env)
    assert found is not None and (found.variable, str(found)) == ("HTTPS_PROXY", "px:8080")
    assert str(proxy_for("http", "example.com", env)) == "other:1080"
    assert proxy_for("https", "skip.example", env) is None
    assert proxy_for("https", "example.com", {**env, "no_proxy": "*"}) is None


@pytest.mark.parametrize("value", ["notaurl", f"http://user:{SECRET}@[bad", "http://proxy:99999"])
def test_the_cli_refuses_an_unusable_proxy_with_exit_2(world: World, value: str) -> None:
    said = world.run_cli("search", "example.com", "-a", "ct", env={"HTTPS_PROXY": value})
    assert said.code == 2
    [line] = said.stderr.splitlines()
    assert line.startswith("osint-fanout: error: HTTPS_PROXY in the environment is not a usable proxy: ")
    assert SECRET not in said.stderr and said.stdout == ""


def test_an_unreachable_proxy_is_a_proxy_error_naming_the_proxy(world: World) -> None:
    with socket.socket() as closed:  # a loopback port with nobody listening
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {"HTTP_PROXY": f"http://user:{SECRET}@127.0.0.1:{port}", "NO_PROXY": "", "no_proxy": ""}
    said = world.run_cli("search", "example.com", "-a", "ct", "-f", "json", "--no-store", env=env)
    assert said.code == 1, said.stderr
    [result] = said.json()["results"]
    assert result["error"]["type"] == "proxy"
    message = result["error"]["message"]
    assert f"127.0.0.1:{port} (HTTP_PROXY)" in message
    assert "example.com" not in message and "cannot resolve" not in message
    assert world.url("crtsh").split("//")[-1].rstrip("/") not in message  # the proxy is named, not the upstream
    assert SECRET not in said.stdout + said.stderr
