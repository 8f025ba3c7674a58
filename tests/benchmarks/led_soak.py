"""Soak run of the LED screen: left running with fast timers, does memory creep?

    uv run python -m tests.benchmarks.led_soak --minutes 30

Starts a real streamlit server on a fixture snapshot (or --data-dir, e.g. the demo warehouse),
opens /led in headless Chromium at 1920×1080 with dwell 2 s and refresh 5 s (no nightly reload,
so this is the worst case), republishes the snapshot every few minutes like an ETL would, and
samples memory: the page's JS heap (CDP, after a forced GC), its DOM node count, the RSS of all
Chromium processes and of the renderer, and the streamlit server's RSS. Prints each sample, then
the mean of the samples just after warm-up against the mean of the last ones, and whether each
stays within 10%.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, App
from tests.fixtures.led_fixture import build_led_snapshot

MB = 1024 * 1024


def _chromium_rss() -> tuple[float, float]:
    """(sum of RSS of every Chromium process under this one, largest renderer RSS), in MB."""
    total, renderer = 0, 0
    for proc in psutil.Process().children(recursive=True):
        try:
            if "chrom" not in proc.name().lower():
                continue
            rss = proc.memory_info().rss
            total += rss
            if "--type=renderer" in " ".join(proc.cmdline()):
                renderer = max(renderer, rss)
        except psutil.NoSuchProcess:
            continue
    return total / MB, renderer / MB


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="length of the run (default 30)")
    ap.add_argument(
        "--warmup", type=float, default=3.0, help="minutes before the baseline (default 3)"
    )
    ap.add_argument(
        "--sample", type=float, default=30.0, help="seconds between samples (default 30)"
    )
    ap.add_argument("--dwell", type=float, default=2.0)
    ap.add_argument("--refresh", type=float, default=5.0)
    ap.add_argument(
        "--publish", type=float, default=5.0, help="republish the snapshot every N minutes"
    )
    ap.add_argument(
        "--data-dir", type=Path, help="use this data dir as is (default: a fixture copy)"
    )
    args = ap.parse_args(argv)

    from playwright.sync_api import sync_playwright

    tmp = tempfile.TemporaryDirectory(prefix="led-soak-")
    data = args.data_dir or Path(tmp.name) / "warehouse"
    if args.data_dir is None:
        build_led_snapshot(data)
    from kpi.settings import DataDir
    from office import accounts
    from office.audit import Actor

    # the lobby screen's way in: a kiosk link (revocable, never idles out)
    _, kiosk = accounts.create_kiosk_link(DataDir.of(data), "LED 浸泡测试", Actor.cli())
    app = App(data)
    server = psutil.Process(app.proc.pid)
    url = f"{app.url}/led?kiosk={kiosk}&dwell={args.dwell:g}&refresh={args.refresh:g}&reload_at="
    publish = (
        "no republishing (--data-dir)" if args.data_dir else f"republish every {args.publish:g} min"
    )
    print(
        f"LED soak: {args.minutes:g} min, dwell {args.dwell:g} s, refresh {args.refresh:g} s, "
        f"{publish}, sample every {args.sample:g} s\n{url}",
        flush=True,
    )
    samples: list[dict] = []
    views_seen: set[str] = set()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM),
                headless=True,
                args=[*CHROMIUM_ARGS, "--enable-precise-memory-info"],
            )
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            page.goto(url)
            page.wait_for_selector(".led-kpi", timeout=60_000)
            page.evaluate("window.__soakSameDocument = 1")
            start = time.monotonic()
            next_publish = start + args.publish * 60
            bump = 0.0
            print(
                f"{'min':>6} {'view':<28} {'JS heap MB':>10} {'DOM nodes':>9} "
                f"{'chromium MB':>11} {'renderer MB':>11} {'server MB':>9}",
                flush=True,
            )
            while time.monotonic() - start < args.minutes * 60:
                deadline = time.monotonic() + args.sample
                while time.monotonic() < deadline:  # watch the rotation between samples
                    view = page.get_attribute("[data-view]", "data-view")
                    views_seen.add(view or "")
                    time.sleep(min(args.dwell, max(0.0, deadline - time.monotonic())))
                if args.data_dir is None and time.monotonic() >= next_publish:
                    bump = 0.0 if bump else 1.0  # what an ETL publish looks like to the screen
                    build_led_snapshot(data, city_overall_bump=bump)
                    next_publish += args.publish * 60
                cdp.send("HeapProfiler.collectGarbage")
                metrics = {
                    m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]
                }
                chromium, renderer = _chromium_rss()
                row = {
                    "minute": (time.monotonic() - start) / 60,
                    "heap": metrics.get("JSHeapUsedSize", 0) / MB,
                    "nodes": metrics.get("Nodes", 0),
                    "chromium": chromium,
                    "renderer": renderer,
                    "server": server.memory_info().rss / MB,
                }
                samples.append(row)
                print(
                    f"{row['minute']:6.1f} {view or '':<28} {row['heap']:10.1f} {row['nodes']:9.0f} "
                    f"{row['chromium']:11.1f} {row['renderer']:11.1f} {row['server']:9.1f}",
                    flush=True,
                )
            same_document = page.evaluate("window.__soakSameDocument") == 1
            text = page.inner_text("body")
            browser.close()
    finally:
        app.stop()
        tmp.cleanup()

    after = [s for s in samples if s["minute"] >= args.warmup]
    if len(after) < 4:
        print("too short a run to compare (raise --minutes or lower --warmup/--sample)")
        return 1
    k = max(2, min(5, len(after) // 4))
    base, end = after[:k], after[-k:]
    print(
        f"\nbaseline = mean of {k} samples from minute {base[0]['minute']:.1f}; "
        f"end = mean of the last {k} (to minute {end[-1]['minute']:.1f})"
    )
    ok = True
    for key, label in [
        ("heap", "browser JS heap (MB)"),
        ("nodes", "browser DOM nodes"),
        ("renderer", "browser renderer RSS (MB)"),
        ("chromium", "browser all processes RSS (MB)"),
        ("server", "streamlit server RSS (MB)"),
    ]:
        b = statistics.mean(s[key] for s in base)
        e = statistics.mean(s[key] for s in end)
        change = (e - b) / b * 100 if b else 0.0
        within = abs(change) <= 10.0
        # DOM nodes follow the view on screen (a 18-column grid has more cells) and count detached
        # nodes awaiting GC: printed for information, not judged; likewise the whole Chromium tree
        ok &= within or key in ("nodes", "chromium")
        print(
            f"{label:<32} after warm-up {b:9.1f}   end {e:9.1f}   {change:+6.1f}%   "
            f"{'within 10%' if within else 'OUTSIDE 10%'}"
        )
    print(
        f"views seen: {len(views_seen)}; page never reloaded: {same_document}; "
        f"error text on screen: {any(w in text for w in ('Traceback', 'Error'))}"
    )
    print(f"finished {dt.datetime.now():%Y-%m-%d %H:%M:%S}")
    return 0 if ok and same_document else 1


if __name__ == "__main__":
    sys.exit(main())
