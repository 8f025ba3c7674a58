"""Where things live: data dir, catalogue dir, metrics file — all overridable by environment.

`BIZENV_DATA_DIR` chooses where the warehouse, snapshots and `CURRENT` live, so tests and
several cities can run side by side; `BIZENV_CATALOG_DIR` points at another city's districts,
items and holidays; `BIZENV_METRICS` at another metrics.yaml.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The folder holding warehouse.duckdb, snapshots/ and CURRENT (default data/warehouse/)."""
    raw = override or os.environ.get("BIZENV_DATA_DIR") or REPO_ROOT / "data" / "warehouse"
    return Path(raw).expanduser().resolve()


def catalog_dir(override: str | os.PathLike | None = None) -> Path:
    """The folder holding districts.csv, items.csv, hotline_topics.csv and holidays.yaml."""
    raw = override or os.environ.get("BIZENV_CATALOG_DIR") or REPO_ROOT / "data" / "catalog"
    return Path(raw).expanduser().resolve()


def metrics_path(override: str | os.PathLike | None = None) -> Path:
    """The metrics.yaml in force (default: the one at the repository root)."""
    raw = override or os.environ.get("BIZENV_METRICS") or REPO_ROOT / "metrics.yaml"
    return Path(raw).expanduser().resolve()


def demo_dir(override: str | os.PathLike | None = None) -> Path:
    """Where the first-run demo exports are generated (git-ignored)."""
    raw = override or os.environ.get("BIZENV_DEMO_DIR") or REPO_ROOT / "data" / "inbox" / "demo"
    return Path(raw).expanduser().resolve()


@dataclass(frozen=True)
class DataDir:
    """Every path of one data dir, resolved once at the entry (the CLI command or the app) and
    passed down — so a build, its publish and its logs all land in the same folder.

    Layout (DESIGN.md, "snapshot pattern"): warehouse.duckdb (ETL only), snapshots/*.duckdb
    (immutable, read-only for the app), CURRENT (the live snapshot's file name), logs/, secret.key.
    """

    root: Path

    @classmethod
    def of(cls, value: DataDir | str | os.PathLike | None = None) -> DataDir:
        """A DataDir as given, or resolved from a path / BIZENV_DATA_DIR / the default."""
        return value if isinstance(value, DataDir) else cls(data_dir(value))

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def snapshots(self) -> Path:
        return self.root / "snapshots"

    @property
    def pointer(self) -> Path:
        return self.root / "CURRENT"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def secret_key(self) -> Path:
        return self.root / "secret.key"
