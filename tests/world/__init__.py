"""A loopback world for tests and benchmarks: servers that answer like the real upstreams.

The entry point is `tests.world.world.World` (tests get one from the `world` fixture);
README.md here says what it serves and how to inject faults.
"""
