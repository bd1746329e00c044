"""A loopback world for tests and benchmarks: servers that answer like the real upstreams."""
