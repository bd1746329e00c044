"""The proxy variables of the environment: checked before any query (a value that is no
usable proxy is a usage error naming the variable, never its value, which may hold a
password), and the proxy a request goes through, so that a proxy that cannot be reached is
blamed, not the target.

httpx reads the same variables (`trust_env`) but takes almost anything: `notaurl` becomes
the proxy `http://notaurl`, and a bad port or host surfaces later as a connection error
about the target. The check here is the few rules httpx leaves out.
"""

from __future__ import annotations

import importlib.util
import os
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["PROXY_VARS", "Proxy", "check_proxies", "proxy_for"]

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
SCHEMES = ("http", "https", "socks5", "socks5h")


@dataclass(frozen=True)
class Proxy:
    """A proxy in use: the variable that set it, and where it is (never its credentials)."""

    variable: str
    host: str
    port: int | None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.port else host


def check_proxies(env: Mapping[str, str] = os.environ) -> None:
    """Raise ValueError (one line, naming the variable, not its value) for the first proxy
    variable that is set but not usable."""
    for name in PROXY_VARS:
        value = env.get(name, "").strip()
        if value:
            why = _unusable(value)
            if why:
                raise ValueError(f"{name} in the environment is not a usable proxy: {why}")


def _unusable(value: str) -> str | None:
    """Why `value` is no proxy URL, or None. Without a scheme (as httpx and curl allow), it
    must at least be HOST:PORT."""
    if any(char.isspace() for char in value):
        return "not a URL (it holds a space)"
    if "://" not in value:
        host, colon, port = value.rpartition("@")[2].rpartition(":")
        if not (colon and host and port):
            return "not a URL (give http://HOST:PORT)"
        value = f"http://{value}"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:  # a bad [IPv6] host, or a port that is no number from 0 to 65535
        return "its port is not a number from 1 to 65535" if "port" in str(exc).lower() else "not a URL"
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        return f"the scheme {scheme!r} is not one of {', '.join(SCHEMES)}"
    if not parts.hostname:
        return "it names no host"
    if port == 0:
        return "its port is not a number from 1 to 65535"
    if scheme.startswith("socks") and importlib.util.find_spec("socksio") is None:
        return "a SOCKS proxy needs `pip install httpx[socks]`"
    import httpx

    try:
        httpx.URL(value)
    except httpx.InvalidURL:
        return "not a URL"
    return None


def proxy_for(scheme: str, host: str, env: Mapping[str, str] = os.environ) -> Proxy | None:
    """The proxy that a request to `scheme://host` goes through, as httpx chooses it from
    the environment ({scheme}_proxy, else all_proxy; NO_PROXY respected), or None."""
    if urllib.request.proxy_bypass_environment(host, proxies={"no": _get(env, "no_proxy") or ""}):
        return None
    for key in (f"{scheme}_proxy", "all_proxy"):
        value = _get(env, key)
        if value:
            url = value if "://" in value else f"http://{value}"
            try:
                parts = urlsplit(url)
                return Proxy(_name(env, key), parts.hostname or "", parts.port)
            except ValueError:
                return None
    return None


def _get(env: Mapping[str, str], key: str) -> str | None:
    """The variable's value, the lowercase one first (as urllib reads them)."""
    return (env.get(key) or env.get(key.upper()) or "").strip() or None


def _name(env: Mapping[str, str], key: str) -> str:
    return key if (env.get(key) or "").strip() else key.upper()
