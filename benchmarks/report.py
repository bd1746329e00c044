"""The report at scale: a graph of about 2,000 assets and 4,000 relations shaped like a
pivoted run (tests/report_kit.large_graph): the HTML file's size, the time to build it,
and the time until the graph is drawn in headless Chromium (goal: under 3 s), with the
layout the report picks (concentric rings above 300 nodes; --cose: cose too); then the exports.

    python -m benchmarks.report [--assets 2000] [--relations 4000] [--repeat 3] [--keep DIR]

The page says when it is drawn (body[data-drawn], after the layout and one frame) and
its own timings (performance.now(): JSON parsed, graph built, layout done, drawn, table
ready), and Chromium's CPU time until drawn: on a machine shared with other work the wall
time mostly measures the others, so the load average is printed beside the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from osint_fanout.export import export
from osint_fanout.report import render_report
from tests.report_kit import NOW, Browser, chromium_path, large_graph


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=2000)
    parser.add_argument("--relations", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the report (and a screenshot) in this folder")
    parser.add_argument("--cose", action="store_true", help="also time the cose layout (minutes at 2,000 nodes)")
    args = parser.parse_args()

    graph = large_graph(args.assets, args.relations)
    print(f"graph: {len(graph.assets)} assets, {len(graph.relations)} relations; load {os.getloadavg()[0]:.1f}")
    builds = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        html = render_report([graph], now=NOW)
        builds.append(time.perf_counter() - started)
    print(f"build: median {statistics.median(builds):.2f} s of {args.repeat}; file {len(html) / 1e6:.2f} MB")

    folder = args.keep or Path(tempfile.mkdtemp(prefix="report-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "report.html"
    path.write_text(html, "utf-8")
    if chromium_path() is None:
        print("drawn: skipped (no chromium: apt-get install chromium)")
    else:
        layouts = ["", "#layout=cose"][: 2 if args.cose else 1]
        for layout in layouts:
            walls, cpus, pages = [], [], []
            for n in range(args.repeat):
                with Browser() as browser:
                    cpu, started = chromium_cpu(browser), time.perf_counter()
                    browser.call("Page.navigate", url=path.resolve().as_uri() + layout)
                    browser.wait_for("document.body && document.body.dataset.drawn === 'true'", timeout_s=600)
                    walls.append(time.perf_counter() - started)
                    cpus.append(chromium_cpu(browser) - cpu)
                    browser.wait_for("document.body.dataset.ready === 'true'", timeout_s=300)
                    timings = browser.evaluate("osintReport.timings")
                    pages.append(timings)
                    assert not browser.console_errors(), browser.console_errors()
                    if args.keep and n == 0:
                        (folder / f"screenshot{layout.replace('#layout=', '-')}.png").write_bytes(browser.screenshot())
            name = layout.removeprefix("#layout=") or "default (concentric)"
            steps = {
                key: statistics.median(page[key] - page["start"] for page in pages)
                for key in ("parsed", "graph", "drawn", "ready")
            }
            print(
                f"drawn, {name}: median {statistics.median(walls):.2f} s from navigation, "
                f"Chromium's CPU {statistics.median(cpus):.2f} s (load {os.getloadavg()[0]:.1f}); "
                "in the page, ms after its script started: "
                + ", ".join(f"{key} {value:.0f}" for key, value in steps.items())
            )
    for fmt in ("stix", "graphml", "csv"):
        started = time.perf_counter()
        text = export(graph, fmt)
        print(f"export {fmt}: {time.perf_counter() - started:.2f} s, {len(text) / 1e6:.2f} MB")


def chromium_cpu(browser: Browser) -> float:
    """CPU seconds used so far by Chromium and its children (renderer, GPU, network service):
    on a busy machine, closer to what an idle one would take than the wall time."""
    import psutil

    root = psutil.Process(browser.process.pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


if __name__ == "__main__":
    main()
