"""What a failed request becomes: an AdapterError whose message names what failed (the
host and path, never the query, which may carry a key), and blames the proxy of the
environment, not the target, when it is the proxy that could not be reached."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._errors import AdapterError
from ._proxy import proxy_for
from ._retry import name_error

if TYPE_CHECKING:
    import httpx

__all__ = ["request_error", "url_logged", "url_shown"]


def request_error(exc: httpx.HTTPError, url: httpx.URL) -> AdapterError:
    """`network`, or `proxy` when the request goes through a proxy that could not be reached
    or refused it (a connection error then is always the proxy's: we never reach the target)."""
    import httpx

    if isinstance(exc, httpx.ProxyError | httpx.ConnectError | httpx.ConnectTimeout):
        proxy = proxy_for(url.scheme, url.host)
        if proxy is not None:
            unresolved = name_error(exc)
            why = f"cannot resolve it: {unresolved.strerror or unresolved}" if unresolved else _proxy_failure(exc)
            return AdapterError("proxy", f"the proxy {proxy} ({proxy.variable}): {why}")
    if isinstance(exc, httpx.TimeoutException):
        return AdapterError("network", f"{url_shown(url)}: timed out ({type(exc).__name__})")
    unresolved = name_error(exc)
    if unresolved is not None:
        return AdapterError("network", f"cannot resolve {url.host}: {unresolved.strerror or unresolved}")
    return AdapterError("network", f"{url_shown(url)}: {type(exc).__name__}: {exc}")


def _proxy_failure(exc: httpx.HTTPError) -> str:
    """What went wrong with a proxy, without its URL (which may hold its password)."""
    import httpx

    if isinstance(exc, httpx.ConnectTimeout):
        return "no answer (connect timed out)"
    if isinstance(exc, httpx.ProxyError):
        return f"it refused the request ({type(exc).__name__})"
    cause = exc.__context__ or exc.__cause__
    detail = getattr(cause, "strerror", None) or (str(cause) if isinstance(cause, OSError) else "")
    return f"cannot connect{': ' + detail if detail else ''} ({type(exc).__name__})"


def url_shown(url: httpx.URL) -> str:
    """Host and path only: query strings may carry keys."""
    port = f":{url.port}" if url.port else ""
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{host}{port}{url.path}"


def url_logged(url: httpx.URL) -> str:
    """Host, path and query for a debug line, the values of key-bearing parameters masked."""
    from ._redact import masked_query

    return f"{url_shown(url)}?{masked_query(url.params.multi_items())}" if url.query else url_shown(url)
