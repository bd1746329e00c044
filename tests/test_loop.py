"""The event loop a run gets: uvloop when installed (unless told otherwise), asyncio's own
when asked for or when uvloop is missing."""

from __future__ import annotations

import asyncio
import builtins
import logging

import pytest

from osint_fanout._loop import LOOP_ENV, new_loop
from tests.conftest import HAVE_UVLOOP


def kind(monkeypatch: pytest.MonkeyPatch, choice: str | None) -> str:
    if choice is None:
        monkeypatch.delenv(LOOP_ENV, raising=False)
    else:
        monkeypatch.setenv(LOOP_ENV, choice)
    loop = new_loop()
    try:
        return type(loop).__module__.split(".")[0]
    finally:
        loop.close()


def test_asyncio_when_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    assert kind(monkeypatch, "asyncio") == "asyncio"
    assert kind(monkeypatch, " AsyncIO ") == "asyncio"


@pytest.mark.skipif(not HAVE_UVLOOP, reason="uvloop is missing")
@pytest.mark.parametrize("choice", [None, "", "auto", "uvloop"])
def test_uvloop_by_default_when_installed(monkeypatch: pytest.MonkeyPatch, choice: str | None) -> None:
    assert kind(monkeypatch, choice) == "uvloop"


def test_without_uvloop_asyncio_and_a_warning_only_when_it_was_asked_for(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_import = builtins.__import__

    def no_uvloop(name: str, *args: object, **kwargs: object) -> object:
        if name == "uvloop":
            raise ImportError("no uvloop here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_uvloop)
    with caplog.at_level(logging.WARNING, "osint_fanout.run"):
        assert kind(monkeypatch, "auto") == "asyncio"
        assert not caplog.records
        assert kind(monkeypatch, "uvloop") == "asyncio"
    assert "not installed" in caplog.text and "osint-fanout[fast]" in caplog.text


def test_an_unknown_choice_is_a_warning(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "osint_fanout.run"):
        kind(monkeypatch, "tokio")
    assert "OSINT_FANOUT_LOOP=tokio is not one of auto, asyncio, uvloop" in caplog.text


def test_the_loop_runs_coroutines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOOP_ENV, raising=False)
    loop = new_loop()
    try:
        assert loop.run_until_complete(asyncio.sleep(0, "done")) == "done"
    finally:
        loop.close()
