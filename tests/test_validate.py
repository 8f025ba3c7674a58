"""Every validation rule: one clean row + one dirty row → the dirty one is quarantined with
its line (as a text editor shows it), the export's own column header and the Chinese reason."""

from __future__ import annotations

import datetime as dt

import pytest

from etl.load import load_files
from kpi import store

APPROVALS = "办件编号,所属区县,受理时间,办结时间,法定时限,承诺时限,跑动次数"
APPROVAL_OK = "BJ1,柯城区,2026-07-01 09:00:00,2026-07-03 10:00:00,15,3,0"
HOTLINE = "工单编号,来电时间,所属区县,办结时间,办理时限"
HOTLINE_OK = "GD1,2026-07-01 09:00:00,江山市,2026-07-02 09:00:00,5"
RATINGS = "评价编号,评价时间,所属区县,评价等级,整改时间"
RATING_OK = "PJ1,2026-07-01 09:00:00,330803,满意,"
REPORTS = "所属区县,统计期,指标编码,指标值"
REPORT_OK = "柯城区,2026Q3,credit_loan_days,3.5"

METRICS = """
version: test
domains:
  - key: credit
    indicators:
      - {key: credit_loan_days, label_zh: 贷款审批平均用时, source: reports}
      - {key: credit_online_rate, label_zh: 线上申贷比例, source: approvals}
"""


@pytest.fixture(autouse=True)
def small_metrics(tmp_path, monkeypatch):
    path = tmp_path / "metrics.yaml"
    path.write_text(METRICS, encoding="utf-8")
    monkeypatch.setenv("BIZENV_METRICS", str(path))


def load_text(tmp_path, text, name="export.csv", **kw):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    [report] = load_files([path], build=False, **kw)
    con = store.connect_warehouse()
    try:
        quarantine = con.execute(
            "SELECT line_no, column_name, reason FROM quarantine ORDER BY line_no"
        ).fetchall()
    finally:
        con.close()
    return report, quarantine


RULES = [
    # (header, clean row, dirty row, column, reason)
    (
        APPROVALS,
        APPROVAL_OK,
        ",柯城区,2026-07-01 09:00,2026-07-02 09:00,15,3,0",
        "办件编号",
        "缺少编号",
    ),
    (
        APPROVALS,
        APPROVAL_OK,
        "BJ2,柯城区,待补录,2026-07-02 09:00,15,3,0",
        "受理时间",
        "时间无法识别：“待补录”",
    ),
    # a long value is cut at 40 characters; a phone number in it is masked like everywhere
    (
        APPROVALS,
        APPROVAL_OK,
        "BJ2,柯城区,待补录（申请人来电13812345678说材料下周补齐，届时再录入受理时间并通知窗口）,2026-07-02 09:00,15,3,0",
        "受理时间",
        "时间无法识别：“待补录（申请人来电138****5678说材料下周补齐，届时再录入受理时间并通知…”",
    ),
    # an empty cell is not an unreadable one
    (APPROVALS, APPROVAL_OK, "BJ2,柯城区,,2026-07-02 09:00,15,3,0", "受理时间", "时间为空"),
    (
        APPROVALS,
        APPROVAL_OK,
        "BJ2,柯城区,2026-07-01,2026-02-30 10:00:00,15,3,0",
        "办结时间",
        "时间无法识别：“2026-02-30 10:00:00”",
    ),
    (
        APPROVALS,
        APPROVAL_OK,
        "BJ2,某某区,2026-07-01,2026-07-02,15,3,0",
        "所属区县",
        "区县未知：“某某区”",
    ),
    (
        APPROVALS,
        APPROVAL_OK,
        "BJ2,330899,2026-07-01,2026-07-02,15,3,0",
        "所属区县",
        "区县未知：“330899”",
    ),
    (APPROVALS, APPROVAL_OK, "BJ2,,2026-07-01,2026-07-02,15,3,0", "所属区县", "区县为空"),
    (
        APPROVALS,
        APPROVAL_OK,
        "BJ2,柯城区,2026-07-05 09:00,2026-07-01 09:00,15,3,0",
        "办结时间",
        # both times as exported: the user sees which one is wrong
        "办结时间早于受理时间：“2026-07-01 09:00:00，2026-07-05 09:00:00”",
    ),
    (
        APPROVALS,
        APPROVAL_OK,
        "BJ2,柯城区,2099-07-05 09:00,,15,3,0",
        "受理时间",
        "时间晚于当前时间：“2099-07-05 09:00”",
    ),
    (
        APPROVALS,
        APPROVAL_OK,
        "BJ2,柯城区,2026-07-01,2026-07-02,abc,3,0",
        "法定时限",
        "数值无法识别：“abc”",
    ),
    (
        APPROVALS,
        APPROVAL_OK,
        "BJ2,柯城区,2026-07-01,2026-07-02,15,-3,0",
        "承诺时限",
        "数值超出范围：“-3”",
    ),
    (
        APPROVALS,
        APPROVAL_OK,
        "BJ2,柯城区,2026-07-01,2026-07-02,15,3,十五",
        "跑动次数",
        "数值无法识别：“十五”",
    ),
    (
        APPROVALS,
        APPROVAL_OK,
        "BJ2,柯城区,2026-07-01,2026-07-02,15,3,1.5",
        "跑动次数",
        "数值超出范围：“1.5”",
    ),
    (
        HOTLINE,
        HOTLINE_OK,
        "GD2,2026-07-03 09:00:00,江山市,2026-07-02 09:00:00,5",
        "办结时间",
        "办结时间早于来电时间：“2026-07-02 09:00:00，2026-07-03 09:00:00”",
    ),
    (
        HOTLINE,
        HOTLINE_OK,
        "GD2,2026-07-03 09:00:00,江山市,,五天",
        "办理时限",
        "数值无法识别：“五天”",
    ),
    (HOTLINE, HOTLINE_OK, ",2026-07-03 09:00:00,江山市,,5", "工单编号", "缺少编号"),
    (
        RATINGS,
        RATING_OK,
        "PJ2,2026-07-01 09:00:00,330803,六星,",
        "评价等级",
        "评价等级超出五级：“六星”",
    ),
    (RATINGS, RATING_OK, "PJ2,2026-07-01 09:00:00,330803,,", "评价等级", "评价等级为空"),
    (
        RATINGS,
        RATING_OK,
        "PJ2,2026-07-01 09:00:00,330803,3,",
        "评价等级",
        "评价等级为数字编码，但画像未声明编码方向（codes）：“3”",
    ),
    (
        RATINGS,
        RATING_OK,
        "PJ2,2026-07-05 09:00:00,330803,不满意,2026-07-01 10:00:00",
        "整改时间",
        "整改时间早于评价时间：“2026-07-01 10:00:00，2026-07-05 09:00:00”",
    ),
    (
        REPORTS,
        REPORT_OK,
        "柯城区,2026年第五季度,credit_loan_days,3",
        "统计期",
        "统计期无法识别：“2026年第五季度”",
    ),
    (REPORTS, REPORT_OK, "柯城区,,credit_loan_days,3", "统计期", "统计期为空"),
    (
        REPORTS,
        REPORT_OK,
        "柯城区,2026Q3,no_such_indicator,3",
        "指标编码",
        "指标未定义：“no_such_indicator”",
    ),
    (REPORTS, REPORT_OK, "柯城区,2026Q3,,3", "指标编码", "指标为空"),
    (
        REPORTS,
        REPORT_OK,
        "柯城区,2026Q3,credit_online_rate,3",
        "指标编码",
        "指标未定义：“credit_online_rate”",
    ),  # not a reports indicator
    (REPORTS, REPORT_OK, "江山市,2026Q3,credit_loan_days,-1", "指标值", "数值超出范围：“-1”"),
    # a blank 指标值 of the 填报 template is 未填报, not an invalid number
    (REPORTS, REPORT_OK, "江山市,2026Q3,credit_loan_days,", "指标值", "未填报"),
    (REPORTS, REPORT_OK, "火星区,2026Q3,credit_loan_days,2", "所属区县", "区县未知：“火星区”"),
]


@pytest.mark.parametrize("header, clean, dirty, column, reason", RULES)
def test_each_rule_quarantines_the_row_with_line_column_and_reason(
    tmp_path, header, clean, dirty, column, reason
):
    report, quarantine = load_text(tmp_path, f"{header}\n{clean}\n{dirty}\n")
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined, report.rows_skipped) == (
        2,
        1,
        1,
        0,
    )
    assert quarantine == [(3, column, reason)]


def test_repeated_keys_the_later_row_wins_and_nothing_is_quarantined(tmp_path):
    """Two rows of one 编号 are two versions of the record: the later one is loaded, the earlier
    one skipped and counted; an exact repeat is skipped too (issue 14, 3: both used to be
    quarantined, so the record was lost)."""
    text = (
        "\n".join(
            [  # noqa: FLY002 — one row per line, each with its line number
                APPROVALS,
                "BJ1,柯城区,2026-07-01 09:00,2026-07-03 10:00,15,3,0",  # line 2
                "BJ1,柯城区,2026-07-01 09:00,2026-07-03 10:00,15,3,0",  # line 3: exact repeat → skipped
                "BJ2,衢江区,2026-07-01 09:00,2026-07-03 10:00,15,3,0",  # line 4 ┐ same 编号,
                "BJ2,衢江区,2026-07-01 09:00,2026-07-04 10:00,15,3,0",  # line 5 ┘ different content
                "BJ3,江山,2026-07-01 09:00,,15,3,0",  # line 6
                "合计,,,,,,",  # line 7
            ]
        )
        + "\n"
    )
    report, quarantine = load_text(tmp_path, text)
    # read 6 = loaded 3 (BJ1 line 2, BJ2 line 5, BJ3) + skipped 3 (line 3 repeat, line 4 older, 合计)
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined, report.rows_skipped) == (
        6,
        3,
        0,
        3,
    )
    assert (report.rows_repeated, report.rows_superseded) == (1, 1)
    assert "同一编号的旧版本 1 行" in report.message and "完全相同的重复行 1 行" in report.message
    assert quarantine == []
    con = store.connect_warehouse()
    assert con.execute(
        "SELECT case_id, source_line, completed_at FROM approvals ORDER BY 1"
    ).fetchall() == [
        ("BJ1", 2, dt.datetime(2026, 7, 3, 10)),
        ("BJ2", 5, dt.datetime(2026, 7, 4, 10)),
        ("BJ3", 6, None),
    ]
    con.close()


@pytest.mark.parametrize(
    "period",
    ["2026Q3", "2026q3", "2026-Q3", "2026 Q3", "2026年第三季度", "2026年3季度", "2026年第3季度"],
)
def test_report_periods_in_the_ways_people_write_them(tmp_path, period):
    report, quarantine = load_text(tmp_path, f"{REPORTS}\n柯城区,{period},credit_loan_days,4.5\n")
    assert quarantine == [] and report.rows_loaded == 1
    con = store.connect_warehouse()
    assert con.execute(
        "SELECT district_code, report_period, period, indicator_key, value FROM reports"
    ).fetchall() == [("330802", "2026Q3", "2026Q3", "credit_loan_days", 4.5)]
    con.close()


def test_template_workbook_with_title_row_names_and_extra_columns(tmp_path):
    import xlsxwriter

    path = tmp_path / "指标填报_2026Q3.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("填报")
    sheet.write(0, 0, "衢州市营商环境指标填报表（2026年第三季度）")
    header = [
        "所属区县",
        "统计期",
        "指标编码",
        "指标名称",
        "单位",
        "指标值",
        "填报单位",
        "备注",
        "填报说明",
    ]
    rows = [
        [
            "柯城区",
            "2026Q3",
            "credit_loan_days",
            "贷款审批平均用时",
            "天",
            3,
            "人行柯城支行",
            "",
            "按季度填报",
        ],
        [
            "江山市",
            "2026年第三季度",
            "",
            "贷款审批平均用时",
            "天",
            4.25,
            "人行江山支行",
            "估算",
            "",
        ],
        ["衢江区", "2026Q3", "", "没有这个指标", "天", 2, "", "", ""],
    ]
    for c, h in enumerate(header):
        sheet.write(1, c, h)
    for r, row in enumerate(rows, start=2):
        for c, v in enumerate(row):
            sheet.write(r, c, v)
    book.close()
    [report] = load_files([path], build=False)
    assert (report.source, report.rows_read, report.rows_loaded, report.rows_quarantined) == (
        "reports",
        3,
        2,
        1,
    )
    con = store.connect_warehouse()
    assert con.execute(
        "SELECT district_code, indicator_key, value, reported_by, note FROM reports ORDER BY 1"
    ).fetchall() == [
        ("330802", "credit_loan_days", 3.0, "人行柯城支行", None),
        ("330881", "credit_loan_days", 4.25, "人行江山支行", "估算"),
    ]
    assert con.execute("SELECT line_no, column_name, reason FROM quarantine").fetchall() == [
        (5, "指标名称", "指标未定义：“没有这个指标”")
    ]
    con.close()


def test_without_metrics_yaml_any_key_shaped_code_is_accepted(tmp_path, monkeypatch):
    monkeypatch.setenv("BIZENV_METRICS", str(tmp_path / "absent.yaml"))
    report, quarantine = load_text(
        tmp_path,
        f"{REPORTS},指标名称\n柯城区,2026Q3,future_key_1,1,\n"
        "柯城区,2026Q3,,2,贷款审批平均用时\n柯城区,2026Q3,Bad Key,3,\n",
    )
    assert quarantine == [
        (3, "指标名称", "指标未定义：“贷款审批平均用时”"),
        (4, "指标编码", "指标未定义：“Bad Key”"),
    ]
    assert report.rows_loaded == 1


RATING_CODES_PROVINCIAL = """
source: ratings
fields:
  level: {codes: {"1": 非常不满意, "2": 不满意, "3": 基本满意, "4": 满意, "5": 非常满意}}
"""
RATING_CODES_GBT = """
source: ratings
fields:
  level: {codes: {"1": 非常满意, "2": 满意, "3": 基本满意, "4": 不满意, "5": 非常不满意}}
"""


@pytest.mark.parametrize(
    "profile_text, expected",
    [
        # code 1 under the provincial table is 非常不满意 = GB/T level 5, a 差评
        (RATING_CODES_PROVINCIAL, [("PJ1", 5, "非常不满意", True), ("PJ2", 1, "非常满意", False)]),
        (RATING_CODES_GBT, [("PJ1", 1, "非常满意", False), ("PJ2", 5, "非常不满意", True)]),
    ],
)
def test_numeric_levels_follow_the_profile_code_table(tmp_path, profile_text, expected):
    profile = tmp_path / "codes.yaml"
    profile.write_text(profile_text, encoding="utf-8")
    text = f"{RATINGS}\nPJ1,2026-07-01 09:00,柯城区,1,\nPJ2,2026-07-01 09:00,柯城区,5,\nPJ3,2026-07-01 09:00,柯城区,6,\n"
    _, quarantine = load_text(tmp_path, text, profile=profile)
    assert quarantine == [(4, "评价等级", "评价等级超出五级：“6”")]
    con = store.connect_warehouse()
    assert (
        con.execute(
            "SELECT rating_id, level, level_label, is_bad FROM ratings ORDER BY 1"
        ).fetchall()
        == expected
    )
    con.close()
