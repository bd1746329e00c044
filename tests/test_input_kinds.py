"""Every kind of file a user can name as input (regular, pipe, character device, socket,
terminal) is read to its end or refused in one line; nothing hangs (issue 18)."""

from __future__ import annotations

import asyncio
import os
import pty
import socket
import subprocess
import threading
from pathlib import Path
from typing import IO

import pytest

from osint_fanout._inputs import InputStats, open_inputs, target_stream
from osint_fanout._settings import ConfigError
from tests.world.world import World

LINES = b"a.example\nb.example\n# a comment\nc.example\n"
WANTED = ["a.example", "b.example", "c.example"]
LIMIT_S = 120.0
"""A hang guard, no bound on time: the reads here take milliseconds, a CLI run seconds."""


def read_all(inputs: list[tuple[str, IO[bytes]]]) -> tuple[list[str], list[str], InputStats]:
    warnings: list[str] = []
    stats = InputStats()

    async def collect() -> list[str]:
        stream = target_stream([], inputs, stats=stats, skip=set(), on_invalid=warnings.append)
        return [target.value async for target in stream]

    async def bounded() -> list[str]:
        return await asyncio.wait_for(collect(), LIMIT_S)

    return asyncio.run(bounded()), warnings, stats


def test_a_regular_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_bytes(LINES)
    assert read_all(open_inputs([str(path)]))[0] == WANTED


def test_a_pipe_is_read_to_its_end() -> None:
    read_fd, write_fd = os.pipe()

    def write() -> None:
        with os.fdopen(write_fd, "wb") as out:
            out.write(LINES)

    threading.Thread(target=write).start()
    assert read_all([("<pipe>", os.fdopen(read_fd, "rb"))])[0] == WANTED


def test_a_named_pipe_is_read_from_its_writer_and_without_one_waits_only_within_max_time(
    world: World, tmp_path: Path
) -> None:
    fifo = tmp_path / "targets.fifo"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "wb") as out:  # blocks until the reader has opened it
            out.write(LINES)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    assert read_all(open_inputs([str(fifo)]))[0] == WANTED
    writer.join(LIMIT_S)
    alone = world.run_cli("search", "-i", str(fifo), "-a", "dns", "-f", "ndjson", "--no-store", "--max-time", "2",
                          timeout=LIMIT_S)
    assert "Traceback" not in alone.stderr and alone.stdout == ""  # no writer: nothing, until --max-time


def test_a_socket_is_read_to_its_end() -> None:
    ours, theirs = socket.socketpair()
    ours.sendall(LINES)
    ours.close()
    assert read_all([("<socket>", os.fdopen(theirs.detach(), "rb"))])[0] == WANTED


def test_a_terminal_is_read_to_its_end_of_file() -> None:
    main_fd, terminal_fd = pty.openpty()
    try:
        os.write(main_fd, LINES + b"\x04")  # Ctrl-D on a line of its own: the end
        assert read_all([("<tty>", os.fdopen(terminal_fd, "rb"))])[0] == WANTED
    finally:
        os.close(main_fd)


def test_dev_null_is_an_empty_list() -> None:
    assert read_all(open_inputs(["/dev/null"]))[0] == []


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_of_endless_binary_data_is_refused_up_front(device: str) -> None:
    with pytest.raises(ConfigError, match=f"--input {device}: binary data"):
        open_inputs([device])


def test_a_pipe_of_binary_data_stops_with_one_warning() -> None:
    """A pipe cannot be looked at up front: its reading stops at the first NUL byte (a pipe
    of /dev/zero would otherwise never end, every line being too long)."""
    proc = subprocess.Popen(["cat", "/dev/zero"], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        read_fd, write_fd = os.pipe()
        with os.fdopen(write_fd, "wb") as out:
            out.write(b"a.example\n")
        values, warnings, stats = read_all([("<first>", os.fdopen(read_fd, "rb")), ("<stdin>", proc.stdout)])
    finally:
        proc.kill()
        proc.wait()
    assert values == ["a.example"]
    assert len(warnings) == 1 and "<stdin>: binary data (a NUL byte)" in warnings[0]
    assert stats.invalid == 1


def test_a_socket_path_and_a_folder_are_refused_in_one_line(tmp_path: Path) -> None:
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(tmp_path / "sock"))
    try:
        with pytest.raises(ConfigError, match="a socket, not a file"):
            open_inputs([str(tmp_path / "sock")])
    finally:
        listening.close()
    with pytest.raises(ConfigError, match="Is a directory"):
        open_inputs([str(tmp_path)])


@pytest.mark.parametrize("command", ["search", "diff"])
@pytest.mark.parametrize(
    ("how", "stdin"), [("-i -", "/dev/null"), ("-i /dev/null", "/dev/null"), ("-i -", "/dev/zero")]
)
def test_cron_stdin_never_hangs(world: World, command: str, how: str, stdin: str) -> None:
    """cron's and systemd's stdin is /dev/null: `-i -` reads nothing and ends."""
    store = ("--store", f"sqlite:///{world.home / 'store.db'}")
    world.run_cli("search", "a.example", "-a", "dns", "-f", "json", *store)  # a store for diff to read
    with open(stdin, "rb") as handle:
        proc = subprocess.run(
            [*world_cli(), command, *how.split(), "-a", "dns", "-f", "ndjson", *store],
            stdin=handle,
            capture_output=True,
            text=True,
            env=world.cli_env(),
            cwd=world.home,
            timeout=LIMIT_S,
            check=False,
        )
    assert "Traceback" not in proc.stderr
    if stdin == "/dev/zero":
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip().splitlines() == [
            "osint-fanout: error: --input <stdin>: binary data (a NUL byte), not a list of targets"
        ]
    else:
        assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr


def world_cli() -> list[str]:
    from tests.world.cli import cli_command

    return cli_command()
