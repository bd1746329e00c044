"""An upstream that enforces a rate limit the way real services do: InternetDB's format,
at most `limit` requests in any one-second window, 429 past that. For measuring that the
tool stays inside a limit (benchmarks/rate_limit.py, benchmarks/queues.py, tests)."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["LimitedInternetDb", "busiest_second"]


class LimitedInternetDb(ThreadingHTTPServer):
    """InternetDB's format, limited to `limit` requests in any one-second window."""

    daemon_threads = True

    def __init__(self, limit: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.limit = limit
        self.lock = threading.Lock()
        self.window: deque[float] = deque()
        self.accepted: list[float] = []
        self.refused = 0

    def admit(self) -> bool:
        with self.lock:
            now = time.monotonic()
            while self.window and now - self.window[0] >= 1.0:
                self.window.popleft()
            if len(self.window) >= self.limit:
                self.refused += 1
                return False
            self.window.append(now)
            self.accepted.append(now)
            return True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> LimitedInternetDb:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: LimitedInternetDb

    def do_GET(self) -> None:
        if self.server.admit():
            ip = self.path.strip("/")
            status, body = 200, {"ip": ip, "ports": [443], "cpes": [], "hostnames": [], "tags": [], "vulns": []}
        else:
            status, body = 429, {"detail": "Rate limit exceeded"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def busiest_second(times: list[float]) -> int:
    """The most requests in any one-second window."""
    return max((sum(1 for t in times if 0 <= t - start < 1.0) for start in times), default=0)
