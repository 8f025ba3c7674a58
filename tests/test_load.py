"""The load as a whole: idempotency, updates with lineage, refusals that change nothing, several
files, publishing while a reader holds the old snapshot, derived columns, the demo exports."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from etl.cli import main
from etl.load import load_files
from kpi import store
from kpi.errors import FileRefused

FIXTURES = Path(__file__).parent / "fixtures" / "etl"
APPROVALS = "办件编号,事项编码,所属区县,受理时间,办结时间,办件状态,法定时限,承诺时限"


def write(path: Path, lines: list[str], encoding="utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def rows(sql: str, params=None):
    con = store.connect_warehouse()
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def state(data_dir: Path) -> dict:
    """Everything a refused load must leave alone: the warehouse bytes, CURRENT, the snapshots."""
    wh = data_dir / "warehouse.duckdb"
    return {
        "warehouse": hashlib.sha256(wh.read_bytes()).hexdigest() if wh.exists() else None,
        "current": (data_dir / "CURRENT").read_text() if (data_dir / "CURRENT").exists() else None,
        "snapshots": sorted(p.name for p in (data_dir / "snapshots").glob("*"))
        if (data_dir / "snapshots").exists()
        else [],
    }


@pytest.fixture
def first_export(tmp_path):
    return write(
        tmp_path / "办件_第一版.csv",
        [
            APPROVALS,
            "BJ1,SX0101,柯城区,2026-07-01 09:00,2026-07-02 09:00,已办结,15,1",
            "BJ2,SX0801,江山市,2026-07-01 09:00,,办理中,30,1",
            "BJ3,SX0101,火星区,2026-07-01 09:00,,办理中,15,1",
        ],
    )


def test_loading_the_same_file_twice_changes_nothing(first_export):
    [first] = load_files([first_export], build=False)
    before = rows("SELECT * FROM approvals ORDER BY case_id")
    lineage = rows("SELECT * FROM lineage ORDER BY record_key")
    quarantine = rows("SELECT * EXCLUDE (load_id) FROM quarantine")
    [again] = load_files([first_export], build=False)
    assert (first.rows_inserted, first.rows_updated, first.rows_unchanged) == (2, 0, 0)
    assert (again.rows_inserted, again.rows_updated, again.rows_unchanged) == (0, 0, 2)
    assert again.status == "duplicate_file"
    assert rows("SELECT * FROM approvals ORDER BY case_id") == before
    assert rows("SELECT * FROM lineage ORDER BY record_key") == lineage
    # the file's quarantine is replaced by the re-load's (same rows), not doubled
    assert rows("SELECT * EXCLUDE (load_id) FROM quarantine") == quarantine
    assert rows("SELECT load_id FROM quarantine") == [(again.load_id,)]
    assert sorted(rows("SELECT load_id, status FROM etl_runs")) == sorted(
        [(first.load_id, "ok"), (again.load_id, "duplicate_file")]
    )


def test_the_primary_key_holds_after_a_first_bulk_load(first_export):
    import duckdb

    load_files([first_export], build=False)
    con = store.connect_warehouse()
    with pytest.raises(duckdb.ConstraintException):
        con.execute(
            "INSERT INTO approvals (case_id, district_code, accepted_at) VALUES ('BJ1', '330802', now())"
        )
    con.close()


def test_a_later_export_updates_changed_records_and_lineage_says_so(tmp_path, first_export):
    [first] = load_files([first_export], build=False)
    later = write(
        tmp_path / "办件_第二版.csv",
        [
            APPROVALS,
            "BJ1,SX0101,柯城区,2026-07-01 09:00,2026-07-02 09:00,已办结,15,1",  # unchanged
            "BJ2,SX0801,江山市,2026-07-01 09:00,2026-07-06 16:00,已办结,30,1",  # now completed
            "BJ4,SX0101,衢江区,2026-07-03 09:00,,办理中,15,1",  # new
        ],
    )
    [second] = load_files([later], build=False)
    assert (second.rows_inserted, second.rows_updated, second.rows_unchanged) == (1, 1, 1)
    got = rows(
        "SELECT case_id, status, completed_at, version, load_id, first_load_id, source_file, source_line "
        "FROM approvals ORDER BY case_id"
    )
    assert got == [
        (
            "BJ1",
            "已办结",
            dt.datetime(2026, 7, 2, 9, 0),
            1,
            first.load_id,
            first.load_id,
            "办件_第一版.csv",
            2,
        ),
        (
            "BJ2",
            "已办结",
            dt.datetime(2026, 7, 6, 16, 0),
            2,
            second.load_id,
            first.load_id,
            "办件_第二版.csv",
            3,
        ),
        ("BJ4", "办理中", None, 1, second.load_id, second.load_id, "办件_第二版.csv", 4),
    ]
    # lineage records the update; the inserts are told by first_load_id (and version 1) above
    assert rows(
        "SELECT record_key, action, load_id, previous_load_id FROM lineage ORDER BY load_id, record_key"
    ) == [
        ("BJ2", "update", second.load_id, first.load_id),
    ]
    assert dict(
        rows("SELECT first_load_id, list(case_id ORDER BY case_id) FROM approvals GROUP BY 1")
    ) == {first.load_id: ["BJ1", "BJ2"], second.load_id: ["BJ4"]}
    # BJ2: 受理 Wed 2026-07-01, 办结 Mon 07-06 → Thu 2, Fri 3, Mon 6 = 3 working days > 承诺 1
    assert rows("SELECT workdays_used, on_time, period FROM approvals WHERE case_id = 'BJ2'") == [
        (3, False, "2026Q3")
    ]


REFUSALS = [
    (
        "缺列.csv",
        [
            APPROVALS.replace("受理时间,", "").replace("所属区县,", ""),
            "BJ1,SX0101,2026-07-02,已办结,15,1",
        ],
        ["缺列.csv", "所属区县", "受理时间", "办件编号、事项编码、办结时间", "--profile"],
    ),
    ("只有合计.csv", [APPROVALS, "合计,,,,,,,"], ["只有合计.csv", "没有数据行"]),
    (
        "无关.csv",
        ["姓名,年龄,爱好", "张三,30,读书"],
        ["无关.csv", "无法判断", "姓名、年龄、爱好", "--source"],
    ),
    ("空文件.csv", [], ["空文件.csv", "空"]),
]


@pytest.mark.parametrize("name, lines, phrases", REFUSALS)
def test_a_refused_file_changes_nothing(
    tmp_path, isolated_data_dir, first_export, name, lines, phrases
):
    load_files([first_export])  # a warehouse and a live snapshot exist
    before = state(isolated_data_dir)
    bad = tmp_path / name
    bad.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(FileRefused) as err:
        load_files([bad])
    for phrase in phrases:
        assert phrase in str(err.value)
    assert state(isolated_data_dir) == before


ALL_QUARANTINED = [
    # another city's export loaded against this city's catalogue
    (
        [
            APPROVALS,
            "BJ1,SX0101,Bronx,2026-07-01 09:00,2026-07-02 09:00,已办结,15,1",
            "BJ2,SX0101,Brooklyn,2026-07-01 09:00,2026-07-02 09:00,已办结,15,1",
            "BJ3,SX0101,Bronx,2026-07-01 09:00,2026-07-02 09:00,已办结,15,1",
        ],
        [
            "全部 3 行数据都被隔离",
            "未写入任何数据",
            "最常见的原因：区县未知（3 行，例如第 2 行“所属区县”列的值“Bronx”）",
            "--catalog",
            "districts.csv",
        ],
    ),
    # dates in a format nobody declared; one row also lacks its number
    (
        [
            APPROVALS,
            "BJ1,SX0101,柯城区,07/01/2026 09:00:00 AM,,办理中,15,1",
            "BJ2,SX0101,柯城区,07/02/2026 09:00:00 AM,,办理中,15,1",
            ",SX0101,柯城区,07/02/2026 09:00:00 AM,,办理中,15,1",
        ],
        [
            "全部 3 行数据都被隔离",
            "最常见的原因：时间无法识别（2 行，例如第 2 行“受理时间”列的值“07/01/2026 09:00:00 AM”；另有 1 种其他原因）",
            "date_formats",
        ],
    ),
    # a 填报 template sent back without a single value
    (
        [
            "所属区县,统计期,指标编码,指标值",
            "柯城区,2026Q3,gp_payment_days,",
            "江山市,2026Q3,gp_payment_days,",
        ],
        [
            "全部 2 行数据都被隔离",
            "最常见的原因：未填报（2 行，例如第 2 行“指标值”列为空）",
            "bizenv template",
        ],
    ),
]


@pytest.mark.parametrize("lines, phrases", ALL_QUARANTINED)
def test_a_file_whose_every_row_is_quarantined_is_a_failed_load(
    tmp_path, isolated_data_dir, first_export, lines, phrases
):
    load_files([first_export])
    before = state(isolated_data_dir)
    bad = write(tmp_path / "全部隔离.csv", lines)
    with pytest.raises(FileRefused) as err:
        load_files([bad])
    assert str(err.value).startswith("全部隔离.csv：")
    for phrase in phrases:
        assert phrase in str(err.value)
    assert [r.status for r in err.value.reports] == ["refused"]
    assert state(isolated_data_dir) == before  # nothing written, nothing published


def test_cli_a_wholly_quarantined_file_is_a_cross_and_a_non_zero_exit(
    tmp_path, isolated_data_dir, capsys
):
    bad = write(tmp_path / "纽约.csv", ALL_QUARANTINED[0][0])
    code = main(["load", str(bad)])
    captured = capsys.readouterr()
    assert code == 2
    assert "✗ 纽约.csv：已拒绝" in captured.out and "✓" not in captured.out
    assert "错误：纽约.csv：全部 3 行数据都被隔离" in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert state(isolated_data_dir) == {"warehouse": None, "current": None, "snapshots": []}


def test_refusal_on_an_empty_data_dir_creates_no_warehouse(tmp_path, isolated_data_dir):
    bad = write(tmp_path / "x.csv", ["姓名,年龄", "张三,30"])
    with pytest.raises(FileRefused):
        load_files([bad])
    assert state(isolated_data_dir) == {"warehouse": None, "current": None, "snapshots": []}
    assert not isolated_data_dir.exists()  # not even a secret key or an empty folder


def test_with_several_files_the_good_ones_load_and_the_refused_one_is_named(tmp_path, first_export):
    bad = write(tmp_path / "坏的.csv", ["姓名,年龄", "张三,30"])
    hotline = write(
        tmp_path / "工单.csv", ["工单编号,来电时间,所属区县", "GD1,2026-07-01 09:00,江山"]
    )
    with pytest.raises(FileRefused) as err:
        load_files([first_export, bad, hotline])
    assert "1 个文件被拒绝导入（其余 2 个已导入）" in str(err.value) and "坏的.csv" in str(
        err.value
    )
    assert [(r.file_name, r.status) for r in err.value.reports] == [
        ("办件_第一版.csv", "ok"),
        ("坏的.csv", "refused"),
        ("工单.csv", "ok"),
    ]
    con = store.connect_snapshot()
    assert con.execute(
        "SELECT (SELECT count(*) FROM approvals), (SELECT count(*) FROM hotline)"
    ).fetchone() == (2, 1)
    con.close()


def test_publishing_while_a_reader_holds_the_previous_snapshot(tmp_path, first_export):
    load_files([first_export])
    reader = store.connect_snapshot()
    old_path = store.current_snapshot_path()
    assert reader.execute("SELECT count(*) FROM approvals").fetchone()[0] == 2
    more = write(
        tmp_path / "more.csv", [APPROVALS, "BJ9,SX0101,柯城区,2026-07-01 09:00,,办理中,15,1"]
    )
    load_files([more])
    assert store.current_snapshot_path() != old_path
    assert (
        reader.execute("SELECT count(*) FROM approvals").fetchone()[0] == 2
    )  # still the old snapshot
    reader.close()
    fresh = store.connect_snapshot()
    assert fresh.execute("SELECT count(*) FROM approvals").fetchone()[0] == 3
    fresh.close()


def test_hotline_derived_columns(tmp_path):
    lines = [
        "2026年第三季度12345工单明细",
        "工单编号,来电时间,受理渠道,诉求人类型,是否涉企,诉求类型,诉求分类,所属区县,签收时间,办结时间,办理时限,是否解决,满意度,是否重复",
        "GD1,2026-07-01 09:00:00,电话,企业,,意见建议,拖欠工资,柯城,2026-07-01 11:30:00,2026-07-08 17:00:00,5,是,满意,否",
        "GD2,2026-07-01 09:00:00,微信,个人,是,求决,城市管理,330881,2026-07-02 09:00:00,2026-07-09 09:00:00,5,否,不满意,是",
        "GD3,2026-07-01 09:00:00,APP,个人,,其它,没有的分类,江山市,,,5,,,",
        "合计,3,,,,,,,,,,,,",
    ]
    path = write(tmp_path / "工单.csv", lines, encoding="gbk")
    [report] = load_files([path], build=False)
    assert (report.source, report.rows_read, report.rows_loaded, report.rows_skipped) == (
        "hotline",
        4,
        3,
        1,
    )
    got = rows(
        "SELECT ticket_id, category, category_raw, is_enterprise, domain_key, district_code, response_hours, "
        "workdays_used, on_time, resolved, satisfaction, is_repeat, period FROM hotline ORDER BY 1"
    )
    assert got == [
        # 07-01 Wed → 07-08 Wed: Thu, Fri, Mon, Tue, Wed = 5 ≤ 5
        (
            "GD1",
            "建议",
            "意见建议",
            True,
            "labor_market",
            "330802",
            2.5,
            5,
            True,
            True,
            "满意",
            False,
            "2026Q3",
        ),
        # 是否涉企 = 是 wins over 诉求人类型 个人; 07-09 is the 6th working day
        (
            "GD2",
            "求助",
            "求决",
            True,
            None,
            "330881",
            24.0,
            6,
            False,
            False,
            "不满意",
            True,
            "2026Q3",
        ),
        # still open, loaded long after its due day (07-08, five working days on): late, not
        # absent (issue 13) — it counts against the district in its due quarter
        (
            "GD3",
            "其他",
            "其它",
            False,
            None,
            "330881",
            None,
            None,
            False,
            None,
            None,
            None,
            "2026Q3",
        ),
    ]


def test_ratings_and_approvals_take_domains_and_limits_from_the_catalogue(tmp_path):
    ratings = write(
        tmp_path / "好差评.csv",
        [
            "评价编号,评价时间,评价渠道,所属区县,事项编码,评价等级,是否整改,整改时间",
            "PJ1,2026-07-01 09:00,PC端,柯城区,SX0801,不满意,是,2026-07-03 09:00",
            "PJ2,2026-07-01 09:00,二维码,柯城区,SX9999,基本满意,,",
        ],
    )
    approvals = write(
        tmp_path / "办件.csv",
        [
            "办件编号,事项编码,所属区县,受理时间,办结时间",  # no 时限 columns in this export
            "BJ1,SX0301,柯城区,2026-07-01 09:00,2026-07-10 09:00",  # SX0301 承诺 7 (items.csv)
            "BJ2,SX0301,柯城区,2026-07-01 09:00,2026-07-13 09:00",
        ],
    )
    load_files([ratings, approvals], build=False)
    assert rows(
        "SELECT rating_id, level, level_label, is_bad, domain_key, rectified FROM ratings ORDER BY 1"
    ) == [
        ("PJ1", 4, "不满意", True, "property_registration", True),
        ("PJ2", 3, "基本满意", False, None, None),
    ]
    # 07-01 Wed → 07-10 Fri: 2,3,6,7,8,9,10 = 7 working days (on time); → 07-13 Mon: 8 (late)
    assert rows("SELECT case_id, domain_key, workdays_used, on_time FROM approvals ORDER BY 1") == [
        ("BJ1", "construction_permits", 7, True),
        ("BJ2", "construction_permits", 8, False),
    ]


def test_demo_exports_quarantine_exactly_the_rows_the_generator_spoiled(tmp_path):
    from etl.demo import generate

    written = generate(tmp_path / "demo", seed=7, scale=0.05, quarters=2, end_period="2026Q2")
    manifest = json.loads((tmp_path / "demo" / "manifest.json").read_text(encoding="utf-8"))
    files = [
        p for source in ("approvals", "hotline", "ratings", "reports") for p in written[source]
    ]
    reports = {r.file_name: r for r in load_files(files)}
    con = store.connect_snapshot()
    for entry in manifest["files"]:
        r = reports[entry["file"]]
        assert r.rows_read == r.rows_loaded + r.rows_quarantined + r.rows_skipped
        assert r.rows_read == entry["data_rows"] + entry["skipped_rows"], entry["file"]
        got = dict(
            con.execute(
                # the rule, without the offending value after it (时间无法识别：“未知”)
                "SELECT split_part(reason, '：', 1), list(line_no ORDER BY line_no) FROM quarantine "
                "WHERE load_id = ? GROUP BY 1",
                [r.load_id],
            ).fetchall()
        )
        assert got == {k: sorted(v) for k, v in entry["dirty_lines"].items() if v}, entry["file"]
    con.close()


def test_cli_load_prints_counts_and_rows_per_second(capsys):
    code = main(["load", str(FIXTURES / "approvals_dirty.csv"), "--no-build"])
    out = capsys.readouterr().out
    assert code == 0
    # the two rows of one 办件编号 are two versions: the later one loads, the earlier is skipped
    assert "读取 15 行 = 导入 5 + 隔离 6 + 跳过 4" in out and "行/秒" in out
    assert "同一编号的旧版本 1 行" in out and "编号重复" not in out


def test_cli_refusal_is_one_message_and_a_non_zero_exit(tmp_path, capsys):
    bad = write(tmp_path / "名单.csv", ["姓名,年龄", "张三,30"])
    code = main(["load", str(bad)])
    captured = capsys.readouterr()
    assert code == 2
    assert "错误：名单.csv：无法判断是哪种导出" in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_cli_status_reports_snapshot_loads_rows_and_quarantine(capsys):
    assert main(["load", str(FIXTURES / "approvals_dirty.csv")]) == 0
    capsys.readouterr()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "当前快照：snapshot-" in out
    assert "approvals_dirty.csv  [approvals] 读取 15 导入 5 隔离 6 跳过 4" in out
    assert "办件（共 5）：2026Q1 1  2026Q3 4" in out
    assert "编号重复" not in out


def test_source_option_names_the_missing_columns_of_that_source(tmp_path, first_export):
    with pytest.raises(FileRefused) as err:
        load_files([first_export], source="hotline")
    message = str(err.value)
    # 受理时间 is also a hotline header (来电时间 or 受理时间), so only the ticket number is missing
    assert "按12345 工单（内置:hotline）读取，缺少必需的列：工单编号 或 工单号。" in message
    assert "办件编号、事项编码、所属区县" in message  # the headers that were found


def test_a_profile_constant_fills_a_column_the_export_lacks(tmp_path):
    export = write(
        tmp_path / "柯城区自建系统.csv",
        ["流水号,受理时间,办结时间", "KC-1,2026-07-01 09:00,2026-07-02 09:00"],
    )
    profile = tmp_path / "柯城.yaml"
    profile.write_text(
        "source: approvals\nfields:\n  case_id: {headers: [流水号]}\n  district: {constant: 柯城区}\n",
        encoding="utf-8",
    )
    [report] = load_files([export], profile=profile, build=False)
    assert (report.profile, report.rows_loaded) == ("柯城.yaml", 1)
    assert rows("SELECT case_id, district_code, workdays_used FROM approvals") == [
        ("KC-1", "330802", 1)
    ]


def test_a_broken_user_profile_lists_every_problem(tmp_path, first_export):
    from kpi.errors import SpecError

    profile = tmp_path / "坏画像.yaml"
    profile.write_text(
        "source: approvals\ndate_formats: ['yyyy-mm-dd']\nfields:\n  caseid: {headers: [编号]}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as err:
        load_files([first_export], profile=profile)
    message = str(err.value)
    assert "坏画像.yaml 有 2 处问题" in message
    assert (
        "fields.caseid：approvals 没有这个字段" in message
        and "'yyyy-mm-dd' 不是 strptime 格式" in message
    )


def test_a_gbk_file_whose_first_megabyte_is_plain_ascii(tmp_path):
    # Encoding is guessed from the first MiB; here the first Chinese (GBK) bytes come after it,
    # so the reader must notice late and read the file again as GB18030.
    profile = tmp_path / "ascii.yaml"
    profile.write_text(
        "source: approvals\nfields:\n  case_id: {headers: [ID]}\n  district: {headers: [AREA]}\n"
        "  accepted_at: {headers: [ACCEPTED]}\n  item_name: {headers: [ITEM]}\n",
        encoding="utf-8",
    )
    ascii_rows = [f"A{i:06d},330881,2026-07-01 09:00:00,ITEM-PADDING-PADDING" for i in range(30000)]
    path = write(
        tmp_path / "late.csv",
        ["ID,AREA,ACCEPTED,ITEM", *ascii_rows, "Z1,柯城区,2026-07-01 09:00:00,企业设立登记"],
        encoding="gbk",
    )
    assert path.stat().st_size > 1 << 20
    [report] = load_files([path], profile=profile, build=False)
    assert (report.rows_read, report.rows_loaded) == (30001, 30001)
    assert rows(
        "SELECT district_code, item_name, source_line FROM approvals WHERE case_id = 'Z1'"
    ) == [("330802", "企业设立登记", 30002)]


def test_an_unexpected_error_while_writing_rolls_the_file_back_and_is_recorded(
    first_export, monkeypatch, capsys
):
    # Not bad input (that is refused before the warehouse is touched) but, say, a full disk:
    # nothing of the file stays, etl_runs says "failed" and why, and the CLI prints no traceback.
    import etl.load

    def broken(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(etl.load, "upsert", broken)
    assert main(["load", str(first_export)]) == 3
    err = capsys.readouterr().err
    # the machine, not a bug: said as such, with the data dir's disk and its free space
    assert "磁盘空间不足" in err and "剩余" in err and "MB" in err and "Traceback" not in err
    assert "正在写入的内容已回滚" in err and "释放空间" in err
    log = Path(err.split("详细信息已保存到 ")[1].rstrip().rstrip("。"))
    assert "Traceback" in log.read_text(encoding="utf-8")
    assert rows("SELECT count(*) FROM approvals") == [(0,)]
    [(status, message)] = rows("SELECT status, message FROM etl_runs")
    assert status == "failed" and "已整体回滚" in message and "No space left on device" in message
