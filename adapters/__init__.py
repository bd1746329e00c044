"""The built-in osint-fanout adapters, one file each, registered through the
`osint_fanout.adapters` entry-point group like any third-party plugin."""
