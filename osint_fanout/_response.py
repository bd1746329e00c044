"""An upstream's answer as adapters see it: status, headers, the body read within the cap,
and the ways to read it (JSON, a validated model, the upstream's own error message)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from ._errors import AdapterError
from ._parse import parse_as
from ._redact import one_line

if TYPE_CHECKING:
    import httpx

__all__ = ["HttpResponse", "UpstreamError"]

T = TypeVar("T")


class UpstreamError(NamedTuple):
    """What an upstream says went wrong, in its own words: `code` (e.g. VirusTotal's
    "NotFoundError", RDAP's errorCode) and `message`."""

    code: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: httpx.Headers
    body: bytes
    where: str
    """Host and path, never the query: safe to show."""
    host: str = ""
    """The host that answered (after redirects)."""

    def json(self) -> Any:
        """The body as JSON; AdapterError `parse` when it is not (or is nested too deeply)."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise AdapterError("parse", f"{self.where} did not answer JSON: {self.excerpt()}") from None
        except RecursionError:
            raise AdapterError("parse", f"{self.where} answered JSON nested too deeply to read") from None

    def json_as(self, kind: type[T] | Any) -> T:
        """The body as JSON validated as `kind` (a pydantic model, or a type like list[Model]);
        AdapterError `parse` naming the first problem otherwise."""
        return parse_as(kind, self.json(), where=self.where)  # type: ignore[no-any-return]

    def error_of(self) -> UpstreamError | None:
        """The upstream's own error message, from the JSON shapes services use: {"error":
        "..."}, {"error": {"code", "message"}}, {"detail": ...}, {"message": ...}, {"errors":
        [{...}]}, RDAP's {"errorCode", "title", "description"}; None when the body has none."""
        try:
            body = json.loads(self.body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None
        return _error_in(body)

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def excerpt(self, limit: int = 120) -> str:
        """A short, escaped, redacted start of the body, for error messages."""
        return one_line(self.text(), limit) or "(empty body)"

    def raise_for_status(self, detail: str | None = None) -> None:
        """Map a non-2xx answer to the core's error types (401/403 auth, 429 rate_limited,
        else http), quoting `detail`, else the upstream's own message, else an excerpt."""
        if self.status < 300:
            return
        if detail is None:
            said = self.error_of()
            detail = str(said) if said else self.excerpt()
        if self.status in (401, 403):
            kind = "auth"
        elif self.status == 429:
            kind = "rate_limited"
        else:
            kind = "http"
        raise AdapterError(kind, f"HTTP {self.status} from {self.where}: {detail}", status=self.status)


def _error_in(body: Any) -> UpstreamError | None:
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        return _error_in(error) or _error_in({"message": error.get("code")})
    code = body.get("code", body.get("errorCode"))
    code_text = str(code) if isinstance(code, str | int) and not isinstance(code, bool) else None
    for key in ("error", "message", "detail", "title", "description", "error_description"):
        value = body.get(key)
        if isinstance(value, list):
            value = " ".join(str(part) for part in value if isinstance(part, str | int))
        if isinstance(value, str) and value.strip():
            return UpstreamError(code_text, one_line(value, 300))
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return _error_in(errors[0])
    return None
