"""Wildcard DNS: a name that exists only because its parent has a wildcard record.

A random label under the parent is asked for; when it answers, the parent has a wildcard,
and a found name whose own answer is no more than the wildcard's is made up by it: it is
not followed (the summary names the wildcard instead).

Where this belongs: the question "what does this name resolve to?" is asked of an adapter
that declares it can answer it (`Adapter.resolves`; the built-in `dns` adapter does), and
the answer is read from that adapter's own `assets()` (its resolves-to and alias-of
relations). So the core never speaks DNS, and a run without such an adapter simply does
not detect wildcards (the summary says so).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from .._budget import Budget
from .._context import Context
from .._errors import NotFound
from .._stream import call_with_deadline
from .._targets import parse_target
from ..assets import Findings, RelationKind

if TYPE_CHECKING:
    from .._http import HttpPool
    from .._plan import ReadyAdapter

__all__ = ["ANSWERS", "Answer", "Resolve", "Wildcards", "adapter_resolver", "random_label"]

log = logging.getLogger("osint_fanout.pivot")

Answer = frozenset[str]
"""What a name resolves to: its resolves-to and alias-of targets ("resolves-to:192.0.2.1")."""
Resolve = Callable[[str], Awaitable[Answer | None]]
"""Ask what a name resolves to; None when that could not be learnt (a failure)."""

ANSWERS = (RelationKind.RESOLVES_TO, RelationKind.ALIAS_OF)


def random_label() -> str:
    """A label no zone would hold but a wildcard answers for."""
    return "osint-fanout-" + secrets.token_hex(8)


def answer_of(name: str, findings: Findings | None) -> Answer:
    """The resolves-to and alias-of targets of `name` in `findings`."""
    if findings is None:
        return frozenset()
    return frozenset(
        f"{relation.kind}:{relation.target.value}"
        for relation in findings.relations
        if relation.kind in ANSWERS and relation.source.value == name
    )


class Wildcards:
    """Detects wildcard parents (each asked once per run) and the names they make up."""

    def __init__(self, resolve: Resolve, *, label: Callable[[], str] = random_label, limit: int = 8) -> None:
        """`limit`: questions under way at once (a name waiting for its parent's answer holds none)."""
        self._resolve = resolve
        self._label = label
        self._limit = asyncio.Semaphore(limit)
        self._parents: dict[str, asyncio.Task[Answer | None]] = {}
        self.found: dict[str, int] = {}
        """Each wildcard found ("*.parent"), with the names it made up that were found."""

    def settled(self, parent: str) -> bool:
        """True when `parent` was asked about and has no wildcard: a name under it is real,
        decided without a task (most names, in most zones)."""
        task = self._parents.get(parent)
        return task is not None and task.done() and not task.cancelled() and not task.result()

    async def made_up(self, name: str, parent: str, known: Answer | None = None) -> bool:
        """True when `name` answers only what the wildcard of `parent` answers. `known`:
        the name's answer when the run has learnt it already (else it is asked)."""
        if parent not in self._parents:  # asked once, however many names wait for it
            self._parents[parent] = asyncio.ensure_future(self._ask(f"{self._label()}.{parent}"))
        wildcard = await asyncio.shield(self._parents[parent])
        if not wildcard:
            return False
        answer = known if known else await self._ask(name)
        if not answer or not answer <= wildcard:
            return False  # a record of its own (or no answer to compare): followed
        key = f"*.{parent}"
        self.found[key] = self.found.get(key, 0) + 1
        return True

    async def _ask(self, name: str) -> Answer | None:
        async with self._limit:
            return await self._resolve(name)

    def close(self) -> None:
        for task in self._parents.values():
            task.cancel()


def adapter_resolver(ready: ReadyAdapter, pool: HttpPool, *, until: Callable[[], float | None]) -> Resolve:
    """`Resolve` through an adapter's own lookup and assets, within its timeout (and
    before `until()`, the run's --max-time, when there is one)."""

    async def resolve(name: str) -> Answer | None:
        target = parse_target(name)
        stop = until()
        hard = time.monotonic() + ready.timeout_s if stop is None else min(stop, time.monotonic() + ready.timeout_s)
        budget = Budget.start(ready.timeout_s, hard)
        ctx = Context(http=pool.session(ready.http, budget), budget=budget, log=log)
        try:
            data = await call_with_deadline(ready.adapter.lookup, target, ctx, deadline=budget.deadline)
            return answer_of(target.value, ready.adapter.assets(target, data))
        except NotFound:
            return frozenset()
        except Exception as exc:  # a failed probe only means "cannot tell": the name is followed
            log.debug("wildcard probe of %s failed: %s: %s", name, type(exc).__name__, exc)
            return None

    return resolve
