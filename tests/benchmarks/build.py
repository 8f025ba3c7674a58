"""Benchmark: `bizenv build` on ~10 million transaction rows vs one plain GROUP BY pass.

Run on demand:  uv run python -m tests.benchmarks.build [--rows 10000000]
                or, on the demo generator's data at scale:
                uv run bizenv sample --out /tmp/s55 --scale 55 --load --data-dir /tmp/s55data
                uv run python -m tests.benchmarks.build --warehouse /tmp/s55data

The canonical tables are synthesized directly in DuckDB (generate_series + hash-based
pseudo-random columns): going through CSV exports would measure the loader, not the build.
Rows are split 50 % approvals, 30 % hotline, 20 % ratings over 10 quarters (in time order, as a
warehouse filled by one quarterly load after another is) and the catalogue's six districts, with
the catalogue's items and hotline topics; reports get one value per district, quarter and
reported indicator.

The yardstick is one `GROUP BY district_code, period` with a count(*) over each of the three
tables, on an open connection. Against it, interleaved and best of --repeat runs, the whole
`build_marts` (spec, connection, scans, marts, snapshot_meta, commit, checkpoint, close):
- after the latest quarter's load: the last quarter's rows are marked changed exactly as
  `bizenv load` marks what it wrote (kpi.engine.partials.mark_changed), so only their quarters are
  rescanned — the build an office runs every quarter;
- with nothing changed (e.g. weights edited in metrics.yaml);
- a full rebuild (`bizenv build --full`, or a filter changed in metrics.yaml): every quarter.
The publish step (copying the warehouse to a snapshot file) is not part of any of these.

For context, also printed: the yardstick as a command runs it (open the warehouse, query, close)
— the like-for-like comparison with a build, which opens and closes the warehouse too; the same
GROUP BY reading every column the scans read; the scans of all quarters alone; and the floor any
build that publishes these marts pays before computing anything (open the warehouse, read
metrics.yaml, write the marts, commit, close).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from kpi import settings, store
from kpi.engine.build import build_marts
from kpi.schema import MART_DDL, create_canonical
from kpi.spec.load import load_spec

QUARTERS = 10  # 2024Q3 … 2026Q4
START = "2024-07-01"
LAST_QUARTER_START = "2026-10-01"  # the rows of the last quarter play the latest quarter's load


def when(g: str, count: int) -> str:
    """SQL: the event time of row `g` of `count`: rows are in time order over the QUARTERS
    quarters (as a warehouse filled one quarterly load after another is), ± up to a day."""
    span = 91 * 86400 * QUARTERS
    return (
        f"TIMESTAMP '{START}' + to_seconds(least({span - 1}, (({g} - 1) * {span} // {count}) "
        f"+ hash({g}, 9) % 86400)::BIGINT)"
    )


def synthesize(con, rows: int, spec=None) -> None:
    """Fill the canonical tables of `con` with `rows` pseudo-random transaction rows."""
    create_canonical(con)
    catalog = settings.catalog_dir()
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _it AS SELECT row_number() OVER () - 1 AS i, * FROM read_csv(?, header=true, all_varchar=true)",
        [str(catalog / "items.csv")],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _tp AS SELECT row_number() OVER () - 1 AS i, * FROM read_csv(?, header=true, all_varchar=true)",
        [str(catalog / "hotline_topics.csv")],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _ds AS SELECT row_number() OVER () - 1 AS i, district_code FROM read_csv(?, header=true, all_varchar=true) WHERE level = 'district'",
        [str(catalog / "districts.csv")],
    )
    n_items = con.execute("SELECT count(*) FROM _it").fetchone()[0]
    n_topics = con.execute("SELECT count(*) FROM _tp").fetchone()[0]
    n_ds = con.execute("SELECT count(*) FROM _ds").fetchone()[0]
    a, h = rows // 2, rows * 3 // 10
    r = rows - a - h
    # h(x, salt) = a pseudo-random non-negative integer; % m picks a value.
    con.execute(f"""
        INSERT INTO approvals BY NAME
        WITH s AS (SELECT g, hash(g, 1) AS h1, hash(g, 2) AS h2, hash(g, 3) AS h3, hash(g, 4) AS h4
                   FROM generate_series(1, {a}) t(g)),
        b AS (SELECT s.*, {when("g", a)} AS acc,
                     (h2 % 12)::INTEGER AS wd FROM s)
        SELECT 'A' || g AS case_id, it.item_code, it.item_name, it.domain_key, ds.district_code,
               it.department, CASE WHEN h3 % 3 = 0 THEN '个人' ELSE '企业' END AS applicant_type,
               CASE h4 % 5 WHEN 0 THEN '窗口' WHEN 1 THEN '移动端' ELSE '全程网办' END AS channel,
               acc AS accepted_at, acc + to_days(wd + wd // 2) AS completed_at,
               CASE WHEN h3 % 50 = 0 THEN '办理中' ELSE '已办结' END AS status,
               it.legal_limit_days::INTEGER AS legal_limit_days, it.promised_limit_days::INTEGER AS promised_limit_days,
               (h4 % 7 // 4)::INTEGER AS visits, wd AS workdays_used,
               wd <= it.promised_limit_days::INTEGER AS on_time, TRUE AS calendar_known,
               year(acc + to_days(wd + wd // 2)) || 'Q' || quarter(acc + to_days(wd + wd // 2)) AS period
        FROM b JOIN _it it ON it.i = b.h1 % {n_items} JOIN _ds ds ON ds.i = hash(b.g, 5) % {n_ds}""")
    con.execute(f"""
        INSERT INTO hotline BY NAME
        WITH s AS (SELECT g, hash(g, 11) AS h1, hash(g, 12) AS h2, hash(g, 13) AS h3, hash(g, 14) AS h4
                   FROM generate_series(1, {h}) t(g)),
        b AS (SELECT s.*, {when("g", h)} AS rec FROM s)
        SELECT 'H' || g AS ticket_id, rec AS received_at, '电话' AS channel,
               CASE WHEN h3 % 2 = 0 THEN '企业' ELSE '个人' END AS caller_type, h3 % 2 = 0 AS is_enterprise,
               CASE h4 % 4 WHEN 0 THEN '咨询' WHEN 1 THEN '投诉' WHEN 2 THEN '求助' ELSE '举报' END AS category,
               tp.topic, nullif(tp.domain_key, '') AS domain_key, ds.district_code,
               rec + to_hours((h2 % 30)::INTEGER) AS responded_at, rec + to_days((h2 % 9)::INTEGER) AS closed_at,
               7 AS limit_days,
               CASE WHEN h4 % 10 = 0 THEN NULL ELSE h4 % 10 < 9 END AS resolved,
               CASE hash(g, 16) % 10 WHEN 0 THEN NULL WHEN 1 THEN '不满意' WHEN 2 THEN '基本满意' ELSE '满意' END AS satisfaction,
               h2 % 20 = 0 AS is_repeat, (h2 % 30)::DOUBLE AS response_hours, (h2 % 9)::INTEGER AS workdays_used,
               h2 % 9 <= 7 AS on_time, TRUE AS calendar_known,
               year(rec + to_days((h2 % 9)::INTEGER)) || 'Q' || quarter(rec + to_days((h2 % 9)::INTEGER)) AS period
        FROM b JOIN _tp tp ON tp.i = b.h1 % {n_topics} JOIN _ds ds ON ds.i = hash(b.g, 15) % {n_ds}""")
    con.execute(f"""
        INSERT INTO ratings BY NAME
        WITH s AS (SELECT g, hash(g, 21) AS h1, hash(g, 22) AS h2, hash(g, 23) AS h3 FROM generate_series(1, {r}) t(g)),
        b AS (SELECT s.*, {when("g", r)} AS rt,
                     CASE WHEN h3 % 100 < 70 THEN 1 WHEN h3 % 100 < 92 THEN 2 WHEN h3 % 100 < 97 THEN 3
                          WHEN h3 % 100 < 99 THEN 4 ELSE 5 END AS lv FROM s)
        SELECT 'R' || g AS rating_id, rt AS rated_at, '移动端' AS channel, ds.district_code, it.department,
               it.item_code, it.domain_key, lv AS level, lv >= 4 AS is_bad,
               CASE WHEN lv >= 4 THEN h2 % 5 > 0 END AS rectified,
               year(rt) || 'Q' || quarter(rt) AS period
        FROM b JOIN _it it ON it.i = b.h1 % {n_items} JOIN _ds ds ON ds.i = hash(b.g, 25) % {n_ds}""")
    spec = spec or load_spec()
    keys = [(i.key, i.dtf.best, i.dtf.worst) for _, i in spec.indicators() if i.source == "reports"]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _rk (indicator_key VARCHAR, best DOUBLE, worst DOUBLE)"
    )
    if keys:
        con.executemany("INSERT INTO _rk VALUES (?, ?, ?)", keys)
    con.execute("""
        INSERT INTO reports BY NAME
        SELECT ds.district_code, p.period AS report_period, k.indicator_key,
               round(k.best + (k.worst - k.best) * (hash(ds.district_code, p.period, k.indicator_key) % 1000) / 1250.0, 2) AS value
        FROM _ds ds CROSS JOIN _rk k CROSS JOIN (SELECT DISTINCT period FROM approvals) p""")


def baseline(con) -> float:
    """The issue's yardstick: one plain GROUP BY district_code, period (count) over each table."""
    t = time.perf_counter()
    for table in ("approvals", "hotline", "ratings"):
        con.execute(
            f"SELECT district_code, period, count(*) FROM {table} GROUP BY district_code, period"
        ).fetchall()
    return time.perf_counter() - t


def baseline_wide(con, spec) -> float:
    """For context only: the same GROUP BY, also reading every column the build reads (count of
    each filter column and count_if expression, sum of each measure) — the unavoidable I/O,
    without any filtering."""
    from kpi.engine.compile import compile_spec

    t = time.perf_counter()
    for source, plan in compile_spec(spec).items():
        cols = [f'count("{c}")' for c in plan.keys]
        for sql in plan.flags:
            cols.append(f"count({sql})")
        for sql, j in plan.measures.items():
            cols.append(f"sum(CAST(({sql}) AS DOUBLE))" if plan.needs.get(j) else f"count({sql})")
        query = (
            f"SELECT district_code, period, count(*), {', '.join(cols)} FROM {source} "
            "GROUP BY district_code, period"
        )
        con.execute(query, plan.params.used_in(query)).fetchall()
    return time.perf_counter() - t


def scans(con, spec) -> float:
    """For context only: the build's scan step over all quarters (kpi.engine.partials.refresh with full,
    as `bizenv build --full` runs it), on a fresh connection as in the build, rolled back after —
    the rest of the build is the spec, the connection, the small statements on the scans' result,
    snapshot_meta and the commit."""
    from kpi.engine.compile import compile_spec
    from kpi.engine.partials import refresh
    from kpi.engine.scoring import run_scans

    plans = compile_spec(spec)
    con.execute("BEGIN TRANSACTION")
    t = time.perf_counter()
    refresh(con, plans, "000000", full=True, run=run_scans)
    elapsed = time.perf_counter() - t
    con.execute("ROLLBACK")
    return elapsed


def floor(data: Path) -> float:
    """For context only: what any build that publishes these marts pays before computing
    anything — open the warehouse, read metrics.yaml, write the marts (here: the existing rows,
    copied unchanged), commit with the build's checkpoint, close. Rolled forward, not back: the
    marts are the same rows."""
    t = time.perf_counter()
    load_spec(check_sql=False)
    con = store.connect_warehouse(data)
    con.execute("BEGIN TRANSACTION")
    for table in MART_DDL:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table}")
    con.execute("SET checkpoint_threshold = '0b'")
    con.execute("COMMIT")
    con.close()
    return time.perf_counter() - t


def last_load_quarters(con, start: str = LAST_QUARTER_START) -> dict[str, list[str]]:
    """source → the quarters the rows of the last quarter (from `start`) fall in (their
    completion can spill over)."""
    time_col = {"approvals": "accepted_at", "hotline": "received_at", "ratings": "rated_at"}
    return {
        src: [
            p
            for (p,) in con.execute(
                f"SELECT DISTINCT period FROM {src} WHERE {col} >= TIMESTAMP '{start}' ORDER BY 1"
            ).fetchall()
        ]
        for src, col in time_col.items()
    }


def latest_quarter_start(con) -> str:
    """The first day of the quarter of the newest approval: where the last quarterly load begins."""
    return str(
        con.execute(
            "SELECT date_trunc('quarter', max(accepted_at))::DATE FROM approvals"
        ).fetchone()[0]
    )


def timed_build(data: Path, **kw) -> tuple[float, dict]:
    t = time.perf_counter()
    meta = build_marts(data, **kw)  # the whole build: spec, scans, marts, snapshot_meta, CHECKPOINT
    return time.perf_counter() - t, meta


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each (best is reported)")
    parser.add_argument(
        "--warehouse",
        type=Path,
        metavar="DATA_DIR",
        help="instead of synthesizing: a copy of DATA_DIR/warehouse.duckdb, e.g. one made by "
        "`bizenv sample --scale 55 --load --data-dir DATA_DIR` (about 10 million rows)",
    )
    args = parser.parse_args(argv)
    from kpi.engine import partials

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        os.environ["BIZENV_DATA_DIR"] = str(data)
        t = time.perf_counter()
        if args.warehouse:
            shutil.copyfile(store.warehouse_path(args.warehouse), store.warehouse_path(data))
            con = store.connect_warehouse(data)
            newest = last_load_quarters(con, latest_quarter_start(con))
        else:
            con = store.connect_warehouse(data)
            synthesize(con, args.rows)
            con.execute("CHECKPOINT")
            newest = last_load_quarters(con)
        rows = sum(con.execute(f"SELECT count(*) FROM {src}").fetchone()[0] for src in newest)
        new_rows = sum(
            con.execute(
                f"SELECT count(*) FROM {src} WHERE period IN (SELECT unnest(?::VARCHAR[]))", [qs]
            ).fetchone()[0]
            for src, qs in newest.items()
        )
        source = f"copied from {args.warehouse}" if args.warehouse else "synthesized"
        print(f"{rows:,} transaction rows {source} in {time.perf_counter() - t:.1f} s")
        con.close()
        # Interleave the runs and keep the best of each: the machine is shared, and a
        # neighbour's burst should not decide the ratio in either direction.
        spec = load_spec()
        bases, commands, wides, scan_times, fulls, routines, idles, floors = (
            [],
            [],
            [],
            [],
            [],
            [],
            [],
            [],
        )
        for _ in range(args.repeat):
            t = time.perf_counter()
            con = store.connect_warehouse(data)
            bases.append(baseline(con))
            con.close()
            commands.append(time.perf_counter() - t)
            con = store.connect_warehouse(data)
            wides.append(baseline_wide(con, spec))
            con.close()
            con = store.connect_warehouse(data)  # fresh, as the build's own connection is
            scan_times.append(scans(con, spec))
            con.close()
            took, meta = timed_build(data, full=True)
            assert set(meta["scans"].values()) == {"full"}, meta["scans"]
            fulls.append(took)
            # The latest quarter's load: what bizenv load records for the quarters it wrote.
            con = store.connect_warehouse(data)
            for src, qs in newest.items():
                partials.mark_changed(con, src, "SELECT unnest($q::VARCHAR[])", {"q": qs})
            con.close()
            took, routine = timed_build(data)
            routines.append(took)
            floors.append(floor(data))
            took, idle = timed_build(data)
            assert set(idle["scans"].values()) == {"unchanged"}, idle["scans"]
            idles.append(took)
        con = store.connect_warehouse(data)
        n = con.execute("SELECT count(*) FROM indicator_scores").fetchone()[0]
        con.close()
        base = min(bases)

        def line(label: str, runs: list[float]) -> str:
            best = min(runs)
            return (
                f"{label:<58} {best:.3f} s = {best / base:5.2f}× baseline "
                f"(runs: {', '.join(f'{r:.3f}' for r in runs)})"
            )

        print(
            f"baseline GROUP BY district_code, period over 3 tables:     {base:.3f} s "
            f"(runs: {', '.join(f'{b:.3f}' for b in bases)})"
        )
        print(line(f"build after the latest quarter's load ({new_rows:,} rows):", routines))
        print(f"    rescanned: {routine['scans']}")
        print(line("build with nothing changed (metrics.yaml weights etc.):", idles))
        print(line(f"full rebuild, every quarter rescanned ({n:,} indicator rows):", fulls))
        print("limit: 3× baseline")
        print(
            f"context: the yardstick as a command would run it (open the warehouse, query, close): "
            f"{min(commands):.3f} s → like for like, the build after a quarter's load is "
            f"{min(routines) / min(commands):.2f}× that"
        )
        wide = min(wides)
        print(
            f"context: GROUP BY reading every column the scans read: {wide:.3f} s = {wide / base:.2f}× baseline"
        )
        low = min(floors)
        print(
            f"context: what any build pays before computing (open, metrics.yaml, write the marts, commit, close): "
            f"{low:.3f} s = {low / base:.2f}× baseline"
        )
        scan = min(scan_times)
        print(
            f"context: the scans of all quarters alone (one statement): {scan:.3f} s = {scan / base:.2f}× baseline"
        )


if __name__ == "__main__":
    main()
