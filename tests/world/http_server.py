"""A threaded HTTP/1.1 server on loopback: one service's routes, per-target behaviours.

A `Service` knows its upstream's formats (routes, the normal answer, its error bodies);
`HttpServer` knows the faults, which are the same for every service.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import bombs
from .base import Behaviour, Request, RequestLog, TcpServer
from .declare import Upstream

HTML_ERROR = (
    "<!DOCTYPE html>\n<html><head><title>{status} {reason}</title></head>\n"
    "<body><center><h1>{status} {reason}</h1></center><hr><center>nginx</center></body></html>\n"
)
MALFORMED = b'{"data": {"id": "'
"""A JSON document cut short."""
ENDLESS_CHUNK = b'"' + b"x" * 65533 + b'",'

# Behaviour name -> the parameters it takes (besides delay_s and times).
BEHAVIOURS: dict[str, frozenset[str]] = {
    "normal": frozenset({"replace"}),
    "slow": frozenset({"replace"}),
    "hang": frozenset(),
    "reset": frozenset(),
    "rate_limit": frozenset({"retry_after"}),
    "server_error": frozenset({"status"}),
    "malformed": frozenset(),
    "wrong_shape": frozenset(),
    "not_found": frozenset(),
    "unauthorized": frozenset({"status"}),
    "endless": frozenset({"content_length"}),
    "redirect": frozenset({"location", "status"}),
    "custom": frozenset({"status", "body", "json", "content_type", "headers"}),
    "bomb": frozenset({"layers", "mib", "encoding"}),
    "deep": frozenset({"depth"}),
}


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, data: Any, content_type: str = "application/json") -> Reply:
        return cls(status, json.dumps(data).encode(), content_type)


class Service(Upstream):
    """One HTTP upstream's formats. Subclasses set `name` (and `serves`, see declare.py)
    and override `target` and `answer`."""

    name = "service"
    content_type = "application/json"

    def server(self) -> HttpServer:
        return HttpServer(self, self.world.log, redirect_to=self.world.url("trap"))

    def target(self, path: str, query: dict[str, list[str]]) -> str | None:
        """The domain or IP a request is about; None for an unknown route (404)."""
        raise NotImplementedError

    def answer(self, request: Request, replace: dict[str, str] | None) -> Reply:
        """The normal answer, as the real service gives it (auth checks included)."""
        raise NotImplementedError

    def error(self, status: int, message: str) -> Reply:
        """An error in the service's own format."""
        return Reply.json(status, {"error": message}, self.content_type)

    def not_found(self, target: str) -> Reply:
        return self.error(404, f"No information available for {target}.")

    def unauthorized(self, status: int) -> Reply:
        return self.error(status, "Unauthorized" if status == 401 else "Forbidden")

    def rate_limited(self) -> Reply:
        return self.error(429, "Too many requests")

    def wrong_shape(self, target: str) -> Reply:
        """Valid JSON that is not what a client expects."""
        return Reply.json(200, [{"unexpected": target}], self.content_type)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HttpServer  # type: ignore[assignment]

    def do_GET(self) -> None:
        self.server.dispatch(self)

    do_HEAD = do_POST = do_GET

    def version_string(self) -> str:
        return f"world-{self.server.service.name}"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log has it


class HttpServer(TcpServer):
    """Serves one `Service`; `redirect_to` is where the "redirect" behaviour points."""

    def __init__(self, service: Service, log: RequestLog, *, host: str = "127.0.0.1", redirect_to: str = "") -> None:
        super().__init__(service.name, log, host)
        self.service = service
        self.redirect_to = redirect_to

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def handle(self, conn: socket.socket, client: tuple[str, int]) -> None:
        _Handler(conn, client, self)  # type: ignore[arg-type]

    def dispatch(self, handler: _Handler) -> None:
        split = urlsplit(handler.path)
        query = parse_qs(split.query, keep_blank_values=True)
        length = handler.headers.get("content-length", "")
        if length.isdigit():
            handler.rfile.read(int(length))
        target = self.service.target(split.path, query)
        request = Request(
            service=self.name,
            method=handler.command,
            path=split.path,
            query=query,
            headers={k.lower(): v for k, v in handler.headers.items()},
            client=handler.client_address,
            target=target.lower() if target else None,
            raw=f"{handler.requestline}\r\n{handler.headers}",
        )
        self.log.add(request)
        if target is None:
            self._send(handler, self.service.error(404, f"no route for {split.path}"))
            return
        behaviour = self.behaviours.take(target)
        if self.pause(behaviour.delay_s):
            handler.close_connection = True
            return
        self._act(handler, request, behaviour)

    def _act(self, handler: _Handler, request: Request, behaviour: Behaviour) -> None:
        name, params, service = behaviour.name, behaviour.params, self.service
        target = request.target or ""
        if name in ("normal", "slow"):
            self._send(handler, service.answer(request, params.get("replace")))
        elif name == "hang":
            handler.close_connection = True
            self.hold(handler.connection)
        elif name == "reset":
            handler.close_connection = True
            self.reset(handler.connection)
        elif name == "rate_limit":
            reply = service.rate_limited()
            if params.get("retry_after") is not None:
                reply.headers["Retry-After"] = str(params["retry_after"])
            self._send(handler, reply)
        elif name == "server_error":
            status = params.get("status", 503)
            reason = handler.responses.get(status, ("Error",))[0]
            self._send(handler, Reply(status, HTML_ERROR.format(status=status, reason=reason).encode(), "text/html"))
        elif name == "malformed":
            self._send(handler, Reply(200, MALFORMED + target.encode(), service.content_type))
        elif name == "wrong_shape":
            self._send(handler, service.wrong_shape(target))
        elif name == "not_found":
            self._send(handler, service.not_found(target))
        elif name == "unauthorized":
            self._send(handler, service.unauthorized(params.get("status", 401)))
        elif name == "endless":
            self._endless(handler, params.get("content_length"))
        elif name == "redirect":
            location = params.get("location") or f"{self.redirect_to}{handler.path}"
            reply = Reply(params.get("status", 302), b"", "text/plain", {"Location": location})
            self._send(handler, reply)
        elif name == "custom":
            self._send(handler, _custom(service, params))
        elif name == "bomb":  # 1 GiB of zeros in 1 MiB of gzip; or gzip inside gzip, in a few KiB
            mib, layers = params.get("mib", 1024), params.get("layers", 1)
            body = bombs.gzip_zeros(mib) if layers == 1 else bombs.gzip_of_gzip(mib)
            encoding = params.get("encoding") or ", ".join(["gzip"] * layers)
            self._send(handler, Reply(200, body, service.content_type, {"Content-Encoding": encoding}))
        elif name == "deep":
            self._send(handler, Reply(200, bombs.deep_json(params.get("depth", 100_000)), service.content_type))
        else:
            raise ValueError(f"unknown behaviour {name!r}")

    def _send(self, handler: _Handler, reply: Reply) -> None:
        handler.send_response(reply.status)
        handler.send_header("Content-Type", reply.content_type)
        handler.send_header("Content-Length", str(len(reply.body)))
        for key, value in reply.headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(reply.body)

    def _endless(self, handler: _Handler, content_length: int | None) -> None:
        """Stream a JSON array that never ends, until the client goes away."""
        handler.close_connection = True
        handler.send_response(200)
        handler.send_header("Content-Type", self.service.content_type)
        if content_length is not None:
            handler.send_header("Content-Length", str(content_length))
        else:
            handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        first = True
        while not self.stopping.is_set():
            data = (b"[" if first else b"") + ENDLESS_CHUNK
            first = False
            if content_length is None:
                data = f"{len(data):x}\r\n".encode() + data + b"\r\n"
            handler.wfile.write(data)  # raises OSError once the client is gone


def _custom(service: Service, params: dict[str, Any]) -> Reply:
    if "json" in params:
        body = json.dumps(params["json"], ensure_ascii=False).encode()
    else:
        raw = params.get("body", b"")
        body = raw.encode() if isinstance(raw, str) else raw
    content_type = params.get("content_type", service.content_type)
    return Reply(params.get("status", 200), body, content_type, dict(params.get("headers") or {}))
