"""The installed CLI on a pseudo-terminal, seen through a terminal emulator (pyte).

Everything the CLI writes, stdout and stderr alike, goes to one terminal, as for a
person at a shell; the bytes are fed to pyte, and tests assert on what the screen shows
(and on the lines scrolled off its top, as a person could scroll back to them).

    with Terminal("search", "example.com", env=world.cli_env(), cwd=world.home) as term:
        term.wait_for(lambda screen: "running" in screen)
        term.ctrl_c()
        code = term.wait()
        lines = term.transcript()
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pyte

from tests.world.world import cli_command

COLUMNS, LINES = 100, 40

# The child becomes a session leader with the pty as its controlling terminal, so that
# Ctrl-C typed on the terminal reaches it as SIGINT, as it would from a shell. A small
# trampoline does it (never Python code between fork and exec in this threaded process).
_CONTROLLING_TTY = (
    "import fcntl, os, sys, termios; os.setsid(); fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


class Terminal:
    def __init__(
        self, *args: str, env: dict[str, str], cwd: Path, columns: int = COLUMNS, lines: int = LINES
    ) -> None:
        """Run `osint-fanout *args` in `env` (plus TERM, COLUMNS and LINES for this terminal)."""
        self.columns = columns
        self.screen = pyte.HistoryScreen(columns, lines, history=100_000)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        command = cli_command()
        if len(command) > 1:  # `python -m osint_fanout`: exec needs the interpreter's path first
            command = [command[0], *command]
        terminal_env = {"TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(lines)}
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _CONTROLLING_TTY, command[0], *command[1:], *args],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=env | terminal_env,
                cwd=cwd,
                close_fds=True,
            )
        finally:
            os.close(slave)  # only the child holds it now: its exit ends our reads
        self.master = master
        self.eof = False

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(OSError):
            os.close(self.master)

    # -- reading -------------------------------------------------------------

    def _read(self, timeout_s: float) -> None:
        if self.eof:
            return
        ready, _, _ = select.select([self.master], [], [], timeout_s)
        if not ready:
            return
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the child has exited and closed the terminal
            chunk = b""
        if not chunk:
            self.eof = True
            return
        self.raw += chunk
        self.stream.feed(chunk)

    def wait_for(self, condition: Callable[[str], bool], timeout_s: float = 30.0) -> str:
        """Read until `condition(screen text)` holds; return that screen."""
        end = time.monotonic() + timeout_s
        while True:
            shown = self.display()
            if condition(shown):
                return shown
            if self.eof or time.monotonic() > end:
                raise AssertionError(f"the screen never showed what was expected; it shows:\n{shown}")
            self._read(0.05)

    def wait(self, timeout_s: float = 30.0) -> int:
        """Read everything until the CLI exits; its exit code."""
        end = time.monotonic() + timeout_s
        while not self.eof:
            if time.monotonic() > end:
                self.proc.kill()
                raise AssertionError(f"the CLI was still running after {timeout_s} s:\n{self.display()}")
            self._read(0.1)
        return self.proc.wait(timeout=max(1.0, end - time.monotonic()))

    # -- typing --------------------------------------------------------------

    def ctrl_c(self) -> None:
        """What the Ctrl-C key sends; the terminal turns it into SIGINT."""
        os.write(self.master, b"\x03")

    # -- what is shown -------------------------------------------------------

    def display(self) -> str:
        """The screen now, one line per row, trailing spaces removed."""
        return "\n".join(line.rstrip() for line in self.screen.display)

    def transcript(self) -> list[str]:
        """Every line a person could see by scrolling back, then the screen; trailing
        blank lines dropped."""
        history = ["".join(line[x].data for x in range(self.columns)).rstrip() for line in self.screen.history.top]
        lines = history + [line.rstrip() for line in self.screen.display]
        while lines and not lines[-1]:
            lines.pop()
        return lines
