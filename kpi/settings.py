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
    (immutable, read-only for the app), CURRENT (the live snapshot's file name), logs/, secret.key,
    app.db (the application database, office.store).
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

    @property
    def app_db(self) -> Path:
        """The embedded application database (accounts, sessions, audit; office.store), used
        unless BIZENV_APP_DB names another."""
        return self.root / "app.db"


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        return default


@dataclass(frozen=True)
class Limits:
    """Guards against files that would hang or exhaust the machine; each is an environment
    setting (the refusal names it, so the user knows what to change)."""

    max_file_mb: float = 2048  # BIZENV_MAX_FILE_MB: one export's size on disk
    max_columns: int = 5000  # BIZENV_MAX_COLUMNS: columns in the header row
    max_line_mb: float = 16  # BIZENV_MAX_LINE_MB: one CSV record (a line, with quoted newlines)
    max_xlsx_expanded_mb: float = 1024  # BIZENV_MAX_XLSX_MB: a workbook's uncompressed sheets
    max_xlsx_cells: int = 50_000_000  # BIZENV_MAX_XLSX_CELLS: rows × columns of the sheet read
    max_quarantine_rows: int = 200_000  # BIZENV_MAX_QUARANTINE_ROWS: bad rows one file may have
    lock_wait_seconds: float = 120  # BIZENV_LOCK_WAIT_SECONDS: a second writer's patience
    earliest_year: int = 2000  # BIZENV_EARLIEST_YEAR: dates before it are implausible
    attachment_max_mb: float = 20.0  # BIZENV_ATTACHMENT_MAX_MB: one 佐证材料 of an online filing

    ENV = {
        "max_file_mb": "BIZENV_MAX_FILE_MB",
        "max_columns": "BIZENV_MAX_COLUMNS",
        "max_line_mb": "BIZENV_MAX_LINE_MB",
        "max_xlsx_expanded_mb": "BIZENV_MAX_XLSX_MB",
        "max_xlsx_cells": "BIZENV_MAX_XLSX_CELLS",
        "max_quarantine_rows": "BIZENV_MAX_QUARANTINE_ROWS",
        "lock_wait_seconds": "BIZENV_LOCK_WAIT_SECONDS",
        "earliest_year": "BIZENV_EARLIEST_YEAR",
        "attachment_max_mb": "BIZENV_ATTACHMENT_MAX_MB",
    }

    @classmethod
    def from_env(cls) -> Limits:
        base = cls()
        values = {}
        for name, var in cls.ENV.items():
            default = getattr(base, name)
            number = _env_number(var, default)
            values[name] = type(default)(number)
        return cls(**values)

    def hint(self, name: str) -> str:
        """'（上限 5000 列，可用环境变量 BIZENV_MAX_COLUMNS 调整）'-style tail for a refusal."""
        return f"可用环境变量 {self.ENV[name]} 调整这个上限"
