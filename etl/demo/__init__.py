"""Demo exports for bizenv: a deterministic generator that writes files the way real systems do.

`generate()` writes, per quarter, 办件明细 (UTF-8 CSV, BOM on alternate quarters), 12345工单明细
(GBK CSV with a title row and a 合计 row), 好差评明细 (XLSX) and 指标填报 (XLSX with a title row),
plus `manifest.json` describing every file: data rows, dirty rows by quarantine reason and their
line numbers — so the loader's tests can check counts without trusting either side's code.

Same seed and arguments → byte-identical files (on the same day: the current quarter is cut at
today's local midnight; with an explicit past `end_period` the output never changes).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

SOURCES = ("approvals", "hotline", "ratings", "reports")
DEFAULT_SEED = 20261124
DEFAULT_QUARTERS = (
    10  # 2024Q3…2026Q4: eight full quarters and more, so YoY exists for the latest two
)
MANIFEST = "manifest.json"
GENERATOR = "bizenv sample"  # manifest.json's "generator": who wrote the files it lists

__all__ = [
    "DEFAULT_QUARTERS",
    "DEFAULT_SEED",
    "GENERATOR",
    "MANIFEST",
    "SOURCES",
    "generate",
    "is_demo_export",
    "mark_earlier_loads",
]


def is_demo_export(path: Path, sha256: str) -> bool:
    """True when `path` is a file the demo generator wrote: the manifest.json beside it lists a
    file of that name with exactly this content (a user's edit makes it an export of their own)."""
    path = Path(path)
    manifest = path.parent / MANIFEST
    try:
        stamp = manifest.stat().st_mtime_ns
    except OSError:
        return False
    return (path.name, sha256) in _demo_files(str(manifest), stamp)


def mark_earlier_loads(con) -> None:
    """Set etl_runs.is_demo on loads recorded before the column existed (NULL there): demo when
    the file it names is still the generator's (is_demo_export), else not."""
    rows = con.execute(
        "SELECT load_id, file_path, sha256 FROM etl_runs WHERE is_demo IS NULL"
    ).fetchall()
    if rows:
        demo = [lid for lid, path, sha in rows if path and sha and is_demo_export(Path(path), sha)]
        con.execute(
            "UPDATE etl_runs SET is_demo = list_contains($demo, load_id) WHERE is_demo IS NULL",
            {"demo": demo},
        )


@functools.lru_cache(maxsize=8)
def _demo_files(manifest: str, stamp: int) -> frozenset[tuple[str, str]]:
    """(file name, sha256) of every file a demo manifest lists; empty for any other JSON."""
    try:
        doc = json.loads(Path(manifest).read_text(encoding="utf-8"))
        if doc.get("generator") != GENERATOR:
            return frozenset()
        return frozenset((str(e["file"]), str(e["sha256"])) for e in doc.get("files", []))
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return frozenset()


def generate(out_dir, **options):
    """Write the demo exports into `out_dir`; see etl.demo.generator.generate for the options.

    Imported on call: the generator pulls in pyarrow and the writers, and every `bizenv`
    command's start-up would pay for them (`bizenv --help` lists `sample` too)."""
    from etl.demo.generator import generate as run

    return run(out_dir, **options)
