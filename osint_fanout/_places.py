"""Places among the running calls: `--concurrency` bounds calls that are actually running.

A call takes a place before it runs and gives it back while it waits in a queue (for its
upstream's own rate limit): a long queue for one upstream then holds no place that the
other upstreams' calls could use. New calls start only when a place is free, so the calls
alive are those running plus those queued, and at most `max_away` calls may be queued
without a place (past that, a call keeps its place while it waits: memory stays bounded).
Nothing here knows about OSINT.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["Place", "Places"]


class Places:
    """At most `limit` places taken at once; at most `max_away` given up by queued calls."""

    def __init__(self, limit: int, *, max_away: int) -> None:
        self.limit = limit
        self.max_away = max_away
        self.away = 0
        """Calls queued without their place, right now."""
        self._free = asyncio.Semaphore(limit)

    async def take(self) -> Place:
        """A place, once one is free."""
        place = Place(self)
        await place.take()
        return place


class Place:
    """One call's place: `give_back()` at the end; `async with away():` while it waits in a
    queue. A call may wait in several queues at once (requests in parallel): the place is
    away until the last of them is over."""

    def __init__(self, places: Places) -> None:
        self._places = places
        self.held = False
        self._away = 0
        self._comes_back = False

    async def take(self) -> None:
        await self._places._free.acquire()
        self.held = True

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self._places._free.release()

    @asynccontextmanager
    async def away(self) -> AsyncIterator[None]:
        places = self._places
        self._away += 1
        if self._away == 1 and self.held and places.away < places.max_away:
            self._comes_back = True
            places.away += 1
            self.give_back()
        try:
            yield
        finally:
            self._away -= 1
            if self._away == 0 and self._comes_back:
                self._comes_back = False
                places.away -= 1
                await self.take()  # cancellation here leaves it not held: nothing to give back
