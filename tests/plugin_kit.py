"""Install test plugins the way pip would (a module plus a .dist-info with entry points),
into a folder that a subprocess gets on PYTHONPATH."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from osint_fanout._plugins import discover

CLI = shutil.which("osint-fanout", path=str(Path(sys.executable).parent)) or "osint-fanout"


def key_vars() -> tuple[str, ...]:
    """What clean_env leaves out: every installed adapter's key variable, the config and the store."""
    keys = sorted({cls.key_env for cls in discover().adapters.values() if cls.key_env})
    return (*keys, "OSINT_FANOUT_CONFIG", "OSINT_FANOUT_STORE")


KEY_VARS = key_vars()

# Adapters that misbehave on purpose; each module defines one adapter class named Plugin.
MISBEHAVING = {
    "blocker": """
        import time
        from osint_fanout import Adapter, TargetKind

        class Plugin(Adapter):
            name = "blocker"
            description = "blocks the event loop with time.sleep"
            kinds = frozenset(TargetKind)
            default_timeout_s = 30.0

            async def lookup(self, target, ctx):
                time.sleep(30)
                return {}
    """,
    "regex": """
        import re
        from osint_fanout import Adapter, TargetKind

        class Plugin(Adapter):
            name = "regex"
            description = "holds the GIL in a catastrophic regex for minutes"
            kinds = frozenset(TargetKind)
            default_timeout_s = 30.0

            async def lookup(self, target, ctx):
                re.match(r"(a+)+$", "a" * 40 + "b")
                return {}
    """,
    "stubborn": """
        import asyncio
        from osint_fanout import Adapter, TargetKind

        class Plugin(Adapter):
            name = "stubborn"
            description = "ignores cancellation"
            kinds = frozenset(TargetKind)
            default_timeout_s = 30.0

            async def lookup(self, target, ctx):
                for _ in range(600):
                    try:
                        await asyncio.sleep(0.05)
                    except asyncio.CancelledError:
                        pass
                return {}
    """,
    "sleeper": """
        import asyncio
        from osint_fanout import Adapter, TargetKind

        class Plugin(Adapter):
            name = "sleeper"
            description = "answers after a while"
            kinds = frozenset(TargetKind)
            default_timeout_s = 30.0

            async def lookup(self, target, ctx):
                await asyncio.sleep(20)
                return {"slept": True}
    """,
    "quick": """
        from osint_fanout import Adapter, TargetKind

        class Plugin(Adapter):
            name = "quick"
            description = "answers at once, with hostile text"
            kinds = frozenset(TargetKind)

            async def lookup(self, target, ctx):
                return {"text": "[bold red]x[/] \\x1b[2J\\x1b]0;title\\x07 \\u202eevil", "target": target.value}

            def summarize(self, data):
                return data["text"]
    """,
    "broken": """
        raise ImportError("this plugin is broken on purpose")
    """,
    "cruncher": """
        import hashlib, sys
        from osint_fanout import Adapter, TargetKind

        class Plugin(Adapter):
            name = "cruncher"
            description = "busy in C code (GIL released) for a minute, in the event loop"
            kinds = frozenset(TargetKind)
            default_timeout_s = 120.0

            async def lookup(self, target, ctx):
                sys.stderr.write("cruncher: crunching\\n")
                sys.stderr.flush()
                hashlib.pbkdf2_hmac("sha256", b"password", b"salt", 200_000_000)
                return {}
    """,
    "to_thread": """
        import asyncio, time
        from osint_fanout import Adapter, TargetKind

        class Plugin(Adapter):
            name = "to_thread"
            description = "waits for a thread that sleeps an hour"
            kinds = frozenset(TargetKind)
            default_timeout_s = 30.0

            async def lookup(self, target, ctx):
                await asyncio.to_thread(time.sleep, 3600)
                return {}
    """,
    "executor": """
        import asyncio, time
        from osint_fanout import Adapter, TargetKind

        class Plugin(Adapter):
            name = "executor"
            description = "waits for the default executor, 8 s"
            kinds = frozenset(TargetKind)
            default_timeout_s = 30.0

            async def lookup(self, target, ctx):
                await asyncio.get_running_loop().run_in_executor(None, time.sleep, 8)
                return {}
    """,
    "raw_thread": """
        import asyncio, threading, time
        from osint_fanout import Adapter, TargetKind

        class Plugin(Adapter):
            name = "raw_thread"
            description = "starts a non-daemon thread that sleeps an hour"
            kinds = frozenset(TargetKind)
            default_timeout_s = 30.0

            async def lookup(self, target, ctx):
                threading.Thread(target=time.sleep, args=(3600,), daemon=False).start()
                await asyncio.sleep(3600)
                return {}
    """,
    "pool": """
        import asyncio, concurrent.futures, time
        from osint_fanout import Adapter, TargetKind

        POOL = concurrent.futures.ThreadPoolExecutor(2)

        class Plugin(Adapter):
            name = "pool"
            description = "waits for a thread pool of its own"
            kinds = frozenset(TargetKind)
            default_timeout_s = 30.0

            async def lookup(self, target, ctx):
                await asyncio.wrap_future(POOL.submit(time.sleep, 3600))
                return {}
    """,
    "blocking": """
        import time
        from osint_fanout import Adapter, TargetKind

        class Plugin(Adapter):
            name = "blocking"
            description = "calls a blocking library the supported way"
            kinds = frozenset(TargetKind)
            default_timeout_s = 30.0

            async def lookup(self, target, ctx):
                total = await ctx.run_blocking(sum, range(10))
                if target.value.startswith("hang."):
                    await ctx.run_blocking(time.sleep, 3600)
                return {"total": total}
    """,
    "crasher": """
        from osint_fanout import Adapter, TargetKind

        class Plugin(Adapter):
            name = "crasher"
            description = "crashes with hostile text in its exception"
            kinds = frozenset(TargetKind)

            async def lookup(self, target, ctx):
                raise ValueError("boom \x1b]0;pwned\x07\x1b[2J\x9b31m\u202eevil\u061c\U000e0041")
    """,
    "invisible": """
        from osint_fanout import Adapter, TargetKind

        INVISIBLE = "\u061c\U000e0041\u00ad\u3164\u2060\u180e\ufff9\ue000\u2028"

        class Plugin(Adapter):
            name = "invisible"
            description = "shows" + INVISIBLE + "nothing"
            kinds = frozenset(TargetKind)

            async def lookup(self, target, ctx):
                return {"text": "a" + INVISIBLE + "b"}

            def summarize(self, data):
                return data["text"]
    """,
    "incomplete": """
        from osint_fanout import Adapter

        class Plugin(Adapter):
            name = "incomplete"

            async def lookup(self, target, ctx):
                return {}
    """,
}


def install_plugin(root: Path, name: str, source: str) -> Path:
    """Write module `ofp_<name>` (`source`, defining the adapter class `Plugin`) into `root`
    with a .dist-info registering it as adapter `name`, as pip would; returns `root`, for
    PYTHONPATH (or sys.path)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"ofp_{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = root / f"ofp_{name}-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: ofp-{name}\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[osint_fanout.adapters]\n{name} = ofp_{name}:Plugin\n", encoding="utf-8")
    return root


def install_plugins(root: Path, names: list[str]) -> Path:
    """Write the named misbehaving plugins into `root`, registered as entry points."""
    for name in names:
        install_plugin(root, name, MISBEHAVING[name])
    return root


def clean_env(tmp: Path, extra: dict[str, str] | None = None, pythonpath: Path | None = None) -> dict[str, str]:
    """The environment a cron job might have: no keys, private config and cache dirs."""
    leave_out = key_vars()
    env = {k: v for k, v in os.environ.items() if k not in leave_out}
    env.update({"HOME": str(tmp), "XDG_CONFIG_HOME": str(tmp / "config"), "XDG_CACHE_HOME": str(tmp / "cache")})
    env.pop("NO_COLOR", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    env.update(extra or {})
    return env


def run_cli(
    args: list[str], env: dict[str, str], timeout: float = 120, stdin: str | None = None
) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    proc = subprocess.run(
        [CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, input=stdin, check=False
    )
    return proc, time.monotonic() - started
