"""Validating data against a pydantic model or type, with the first problem in one line: the
one way upstream answers (and the config) are checked."""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from ._errors import AdapterError

__all__ = ["first_error", "parse_as"]

T = TypeVar("T")


def first_error(exc: ValidationError) -> tuple[str, str]:
    """(where, what) of the first problem: ('data.attributes.reputation', 'Input should be ...')."""
    first = exc.errors()[0]
    return ".".join(str(part) for part in first["loc"]), first["msg"]


@functools.cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def parse_as(kind: type[T] | Any, value: Any, *, where: str) -> T:
    """`value` validated as `kind` (a pydantic model, or any type such as list[Model]);
    AdapterError `parse` naming `where` and the first problem otherwise."""
    try:
        return _adapter(kind).validate_python(value)  # type: ignore[no-any-return]
    except ValidationError as exc:
        at, what = first_error(exc)
        raise AdapterError("parse", f"{where}: unexpected JSON shape at {at or 'top level'}: {what}") from None
    except RecursionError:
        raise AdapterError("parse", f"{where}: an answer nested too deeply to read") from None
