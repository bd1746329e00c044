"""Exit codes (the README's table); 130 and 143 are 128 + the signal's number."""

EXIT_FAILED = 1
"""Some adapter ended error, timeout or cancelled, or some input line was invalid."""
EXIT_USAGE = 2
"""Bad usage, target or config: nothing was queried."""
EXIT_OUTPUT_FAILED = 74
"""stdout or the -o file could not be written (disk full, I/O error); sysexits' EX_IOERR."""
EXIT_INTERNAL = 70
"""A bug: reported in one line, never with a traceback."""
EXIT_OUTPUT_CLOSED = 141
"""stdout was closed by its reader, e.g. `| head`."""
EXIT_STORE = 3
"""The store failed (locked, corrupt, full, unreachable, newer): results were still
printed, one line on stderr says what; wins over 0 and 1."""
