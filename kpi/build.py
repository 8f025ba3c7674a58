"""`bizenv build`: recompute the score marts in the warehouse and publish a new snapshot.

Placeholder until the scoring engine lands: publishes the warehouse as it is.
"""

from __future__ import annotations

from pathlib import Path

from kpi import store


def build_and_publish(data_dir: Path | None = None, metrics_path: Path | None = None) -> Path:
    """Rebuild marts from the warehouse with metrics.yaml, then publish a snapshot; returns its path."""
    return store.publish_snapshot(data_dir)
