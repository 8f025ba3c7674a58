"""Exports in the shapes real systems write (../shared/DOMAIN.md §10), small fixtures written by
hand in tests/fixtures/exports/ with the profile a user would write for each. Every expected
figure is worked out from the fixture rows (the comments say how); each test checks rows read =
loaded + quarantined + skipped, the domains, the derived status, the version rule and the reason
texts (issue 14)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import xlsxwriter

from etl.cli import main
from etl.load import load_files
from kpi import store

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
CATALOG = Path(__file__).resolve().parents[1] / "data" / "catalog"


def load(name: str, profile: str | None = None, **kw):
    [r] = load_files(
        [EXPORTS / name if not Path(name).is_absolute() else Path(name)],
        profile=EXPORTS / profile if profile else None,
        build=False,
        **kw,
    )
    assert r.rows_read == r.rows_loaded + r.rows_quarantined + r.rows_skipped
    return r


def rows(sql: str, params=()):
    con = store.connect_warehouse()
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def quarantine(file_name: str):
    return rows(
        "SELECT line_no, column_name, reason FROM quarantine WHERE file_name = ? ORDER BY line_no",
        [file_name],
    )


def raw_of(file_name: str, line: int) -> dict:
    [(raw,)] = rows(
        "SELECT raw FROM quarantine WHERE file_name = ? AND line_no = ?", [file_name, line]
    )
    return json.loads(raw)


def test_gbt39046_approvals_no_status_national_codes_compact_times_town_codes():
    r = load("gbt39046_banjian.csv", "gbt39046_banjian.yaml")
    # 9 rows: GB001–GB005 load, GB005 repeated exactly (skipped), GB007 bad time, GB008 unknown
    # district, GB009 办结 before 受理
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_skipped) == (9, 5, 3, 1)
    assert (r.rows_repeated, r.rows_superseded) == (1, 0)
    # 实施编码 are national codes the catalogue lacks: matched by name — exact (企业设立登记),
    # alias (不动产抵押权登记 → SX0802, 低压用电报装 → SX0601), rule (不动产+登记); one unmatched
    assert (r.rows_unmatched, r.unmatched_names) == (1, [("城镇污水排入排水管网许可", 1)])
    assert rows(
        "SELECT case_id, domain_key, district_code, status, channel FROM approvals ORDER BY 1"
    ) == [
        ("GB001", "starting_business", "330802", "已办结", "全程网办"),  # 330802001: a town
        ("GB002", "property_registration", "330803", "办理中", "窗口"),  # no 办结时间
        ("GB003", "property_registration", "330822", "已办结", "窗口"),  # 不予许可 is a decision
        ("GB004", None, "330881", "已办结", "移动端"),  # no 办结结果, has 办结时间
        ("GB005", "electricity", "330824", "不予受理", "窗口"),
    ]
    # 20260702T110307 and 2026072412:39:18, the two ways the standard writes a time
    assert rows("SELECT accepted_at, completed_at FROM approvals WHERE case_id = 'GB001'") == [
        (dt.datetime(2026, 7, 2, 11, 3, 7), dt.datetime(2026, 7, 24, 12, 39, 18))
    ]
    assert quarantine("gbt39046_banjian.csv") == [
        (8, "受理时间", "时间无法识别：“20261345T250000”"),
        (9, "行政区划", "区县未知：“990000001”"),
        (10, "办结时间", "办结时间早于受理时间：“2026-07-09 09:00:00，2026-07-10 09:00:00”"),
    ]
    raw = raw_of("gbt39046_banjian.csv", 10)
    # the original cells (as written, not as read), the applicant's name left out
    assert raw["办结时间"] == "20260709T090000" and raw["办件编号"] == "GB009"
    assert "申请者" not in raw and "吴十" not in json.dumps(raw, ensure_ascii=False)


def test_gbt39046_ratings_composite_key_code_direction_and_contradiction():
    r = load("gbt39046_pingjia.csv", "gbt39046_pingjia.yaml")
    # 6 rows: GB002's 满意度 contradicts its 满意度代码; GB004 has neither
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_skipped) == (6, 4, 2, 0)
    # no 评价编号: 办件编号-评价次数; 评价次数 1 and 2 of one 办件 are two ratings, both kept;
    # an empty 评价次数 is the first rating; 满意度代码 (A.8: 1 非常满意) read when 满意度 is empty
    assert rows("SELECT rating_id, rating_seq, level, channel FROM ratings ORDER BY 1") == [
        ("GB001-1", 1, 2, "移动端"),  # 移动服务端
        ("GB001-2", 2, 1, "PC端"),
        ("GB003-1", 1, 4, "二维码"),  # code 4 = 不满意
        ("GB003-2", 2, 3, "二维码"),
    ]
    assert quarantine("gbt39046_pingjia.csv") == [
        (
            4,
            "满意度代码",
            "评价等级与等级编码不一致：“满意度=非常满意，满意度代码=5（按画像即非常不满意）”",
        ),
        (7, "满意度", "评价等级为空"),
    ]
    assert "评价人" not in raw_of("gbt39046_pingjia.csv", 4)


def test_ratings_without_a_matter_take_their_cases_domain_at_build():
    load("gbt39046_banjian.csv", "gbt39046_banjian.yaml")
    r = load("gbt39046_pingjia.csv", "gbt39046_pingjia.yaml")
    assert r.rows_unmatched == 0  # they carry 办件编号: the build gives them the 办件's domain
    from kpi.engine.build import build_and_publish

    build_and_publish()
    assert rows("SELECT rating_id, domain_key FROM ratings ORDER BY 1") == [
        ("GB001-1", "starting_business"),
        ("GB001-2", "starting_business"),
        ("GB003-1", "property_registration"),
        ("GB003-2", "property_registration"),
    ]


def test_provincial_case_store_versions_placeholders_gb18030_and_codes():
    r = load("banjianku_ningbo.csv", "banjianku_ningbo.yaml")
    # NB001 v1+v2 and NB002 v3+v2: the higher DATAVERSION wins wherever it stands; NB004's
    # AcceptTime is 1753-01-01, "no date"
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_skipped) == (6, 3, 1, 2)
    assert (r.rows_repeated, r.rows_superseded) == (0, 2)
    assert rows(
        "SELECT case_id, source_line, completed_at, status, domain_key, promised_limit_days "
        "FROM approvals ORDER BY 1"
    ) == [
        # by name (the province's code is unknown here), DOACTION 1 = 办结
        ("NB001", 3, dt.datetime(2026, 7, 2, 15), "已办结", "property_registration", 1),
        ("NB002", 4, dt.datetime(2026, 7, 2, 11), "已办结", "taxes", 1),  # code SX1301
        ("NB003", 6, dt.datetime(2026, 7, 3, 16), "不予受理", None, 5),  # DOACTION 2
    ]
    assert r.rows_unmatched == 1
    assert quarantine("banjianku_ningbo.csv") == [
        (7, "AcceptTime", "时间为空：“1753-01-01 00:00:00”")
    ]


def test_provincial_rating_push_reverse_codes_and_channel_table():
    r = load("haochaping_push.csv", "haochaping_push.yaml")
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_skipped) == (5, 4, 1, 0)
    # satisfaction 1 = 非常不满意: 5 → level 1, 3 → 3, 1 → 5, 2 → 4; pf 7 = 系统默认评价, 6 = 短信
    assert rows("SELECT rating_id, level, is_bad, channel, domain_key FROM ratings ORDER BY 1") == [
        ("NB001-1", 1, False, "移动端", "property_registration"),
        ("NB002-1", 3, False, "系统默认评价", "taxes"),
        ("NB003-1", 5, True, "短信", None),
        ("NB003-2", 4, True, "PC端", None),
    ]
    assert r.rows_unmatched == 2  # 户外广告设施设置审批, twice
    assert quarantine("haochaping_push.csv") == [(6, "satisfaction", "评价等级超出五级：“9”")]


def test_epoint_list_district_in_the_department_name():
    r = load("xindian_list.csv", "xindian_list.yaml")
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_skipped) == (3, 2, 1, 0)
    assert rows("SELECT case_id, district_code, domain_key, status FROM approvals ORDER BY 1") == [
        ("XD001", "330802", "market_regulation", "已办结"),
        ("XD002", "330881", "market_regulation", "已办结"),
    ]
    # nothing to extract: the department's name is shown, not an empty value
    assert quarantine("xindian_list.csv") == [(4, "审批部门", "区县未知：“自然资源和规划局”")]
    assert "申请人" not in raw_of("xindian_list.csv", 4)


def test_city_operations_cases_zero_dates_constant_district_and_later_row():
    r = load("chengyun_cases.csv", "chengyun_cases.yaml")
    # CY003 twice: the later row (closed) wins; 0000-00-00 00:00 is "not closed", not an error
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_skipped) == (4, 3, 0, 1)
    assert r.rows_superseded == 1
    assert rows("SELECT ticket_id, district_code, closed_at, channel FROM hotline ORDER BY 1") == [
        ("CY001", "330802", dt.datetime(2026, 7, 2, 16), "电话"),
        ("CY002", "330802", None, "网格员上报"),
        ("CY003", "330802", dt.datetime(2026, 7, 4, 10), "电话"),
    ]


JIAOBAN_HEADER = (
    "工单编号 来电时间 诉求人 联系电话 诉求类型 诉求分类 诉求标题 诉求内容 事件发生地 承办单位 派单时间 "
    "签收时间 办理时限 办结时间 办理结果 是否延期 是否退单 回访时间 回访结果 满意度 市交办办结期限"
).split()


def _xlsx(path: Path, rows_: list[list]) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for i, row in enumerate(rows_):
        for j, v in enumerate(row):
            if v is not None:
                sheet.write(i, j, v)
    book.close()
    return path


def test_district_handover_12345_excel_place_only_in_the_event_address(tmp_path):
    def ticket(n, place, closed):
        return [
            f"QJB{n}", "2026-07-01 09:00:00", "张先生", "13812345678", "投诉", "市容环卫",
            "垃圾未清运", "小区垃圾三天未清运", place, "城管局", "2026-07-01 09:30:00",
            "2026-07-01 10:00:00", "5", closed, "已处理", "否", "否", "", "满意", "满意", "2026-07-08",
        ]  # fmt: skip

    path = _xlsx(
        tmp_path / "区交办工单.xlsx",
        [
            JIAOBAN_HEADER,
            ticket(1, "衢州市江山市虎山街道某小区", "2026-07-03 10:00:00"),
            ticket(2, "柯城府山街道某路口", ""),
            ticket(3, "某某小区东门", "2026-07-03 10:00:00"),
        ],
    )
    assert len(JIAOBAN_HEADER) == 21
    r = load(str(path), "jiaoban_12345.yaml")
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_skipped) == (3, 2, 1, 0)
    assert rows("SELECT ticket_id, district_code FROM hotline ORDER BY 1") == [
        ("QJB1", "330881"),
        ("QJB2", "330802"),  # the short name 柯城 in the address
    ]
    assert quarantine("区交办工单.xlsx") == [(4, "事件发生地", "区县未知：“某某小区东门”")]
    raw = raw_of("区交办工单.xlsx", 4)
    assert "诉求人" not in raw and "13812345678" not in json.dumps(
        raw
    )  # name dropped, number hashed


def test_daily_sheet_with_the_header_on_row_3_and_dates_in_two_shapes(tmp_path):
    header = ["工单编号", "受理时间", "所属区县", "诉求类型", "诉求分类", "办结时间", "满意度"]
    path = _xlsx(
        tmp_path / "接诉即办日报.xlsx",
        [
            ["接诉即办工单日报（2026年7月3日）"],
            ["填报单位：柯城区12345分中心"],
            header,
            ["RB1", "2026-07-03 09:15:00", "柯城区", "求助", "供水", "2026-07-03 15:00:00", "满意"],
            ["RB2", "2026年7月3日 10时20分", "柯城", "咨询", "社保", "0000-00-00 00:00:00", None],
            ["RB3", "0000-00-00 00:00:00", "柯城区", "投诉", "噪声", None, None],
        ],
    )
    r = load(str(path))
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_skipped) == (3, 2, 1, 0)
    assert rows("SELECT ticket_id, received_at, closed_at FROM hotline ORDER BY 1") == [
        ("RB1", dt.datetime(2026, 7, 3, 9, 15), dt.datetime(2026, 7, 3, 15)),
        ("RB2", dt.datetime(2026, 7, 3, 10, 20), None),  # MySQL's zero date: not closed
    ]
    # rows 4–6 of the sheet (title, note, header above); a placeholder 受理时间 is empty, shown
    assert quarantine("接诉即办日报.xlsx") == [(6, "受理时间", "时间为空：“0000-00-00 00:00:00”")]


def test_a_jsp_page_saved_as_xls_is_read_as_its_table():
    r = load("jsp_banjian.xls")
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_skipped) == (3, 2, 1, 0)
    assert any("网页" in n for n in r.notes)
    assert rows("SELECT case_id, district_code, domain_key, status FROM approvals ORDER BY 1") == [
        ("JSP001", "330825", "property_registration", "已办结"),
        ("JSP002", "330825", "water_gas", "办理中"),  # 在办
    ]
    # the title row above the header: data starts on row 3
    assert quarantine("jsp_banjian.xls") == [
        (5, "办结时间", "办结时间早于受理时间：“2026-07-01 10:00:00，2026-07-02 10:00:00”")
    ]


def test_a_catalogue_edit_takes_effect_at_build_without_a_reload(tmp_path):
    catalog = tmp_path / "catalog"
    shutil.copytree(CATALOG, catalog)
    load("gbt39046_banjian.csv", "gbt39046_banjian.yaml", catalog_dir=catalog)
    from kpi.engine.build import build_and_publish
    from kpi.read import queries

    build_and_publish()
    con = store.connect_snapshot()
    unmatched = queries.unmatched_items(con)
    con.close()
    assert unmatched[["source", "item_name", "rows"]].values.tolist() == [
        ["approvals", "城镇污水排入排水管网许可", 1]
    ]
    with (catalog / "item_rules.csv").open("a", encoding="utf-8") as fh:
        fh.write("water_gas,排水+许可,,,排水许可\n")
    build_and_publish()  # no catalogue argument: the one the load used
    assert rows("SELECT domain_key FROM approvals WHERE case_id = 'GB004'") == [("water_gas",)]
    con = store.connect_snapshot()
    assert queries.unmatched_items(con).empty
    con.close()


def test_a_broken_rule_is_named_with_its_row(tmp_path):
    catalog = tmp_path / "catalog"
    shutil.copytree(CATALOG, catalog)
    (catalog / "item_rules.csv").write_text(
        "domain_key,keywords,pattern,item_code,note\ntaxes,,(?=发票),,look-ahead\n",
        encoding="utf-8",
    )
    from kpi.errors import UserInputError

    with pytest.raises(UserInputError, match="item_rules.csv 第 2 行"):
        load("gbt39046_banjian.csv", "gbt39046_banjian.yaml", catalog_dir=catalog)


def test_cli_summary_names_unmatched_matters_and_older_versions(capsys):
    code = main(
        [
            "load",
            str(EXPORTS / "banjianku_ningbo.csv"),
            "--profile",
            str(EXPORTS / "banjianku_ningbo.yaml"),
            "--no-build",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "读取 6 行 = 导入 3 + 隔离 1 + 跳过 2" in out
    assert "同一编号的旧版本 2 行" in out
    assert (
        "未匹配领域：1 条记录的事项不在目录中，不计入各领域指标：户外广告设施设置审批（1）" in out
    )
    assert "bizenv build" in out


def test_a_folder_skips_what_is_no_export_with_a_note(tmp_path, capsys):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(EXPORTS / "jsp_banjian.xls", inbox)
    (inbox / "README.md").write_text("说明", encoding="utf-8")
    _xlsx(inbox / "事项分类表.xlsx", [["分类", "说明"], ["开办企业", "企业开办相关事项"]])
    code = main(["load", str(inbox), "--no-build"])
    out = capsys.readouterr().out
    assert code == 0  # the taxonomy sheet does not fail the run
    assert "– 事项分类表.xlsx：跳过，不是导出文件" in out
    assert "README.md" in out and "✓ jsp_banjian.xls" in out
    # named on its own, the same sheet is refused
    assert main(["load", str(inbox / "事项分类表.xlsx"), "--no-build"]) == 2


def test_profile_new_writes_a_commented_chinese_profile_and_check_dry_runs(tmp_path, capsys):
    export = tmp_path / "某区导出.csv"
    export.write_text(
        "流水号,事项名称,受理日期时间,办结时间,所属区县,申请人\n"
        "A1,不动产转移登记,2026-07-01 09:00,2026-07-03 10:00,柯城区,张三\n"
        "A2,某某事项,2026-07-01 09:00,,江山,李四\n"
        "A3,企业设立登记,待补录,,江山,王五\n",
        encoding="utf-8",
    )
    assert main(["profile", "new", str(export)]) == 0
    profile = tmp_path / "某区导出_画像.yaml"
    text = profile.read_text(encoding="utf-8")
    assert "source: approvals" in text
    assert "# 办件编号（必需） ← 推测是第 A 列“流水号”（请核对）" in text
    assert 'accepted_at: {headers: ["受理日期时间"]}' in text
    assert "第 F 列“申请人”" in text  # unread, listed; never proposed as 申请人类型
    capsys.readouterr()
    assert main(["profile", "check", str(export), "--profile", str(profile)]) == 0
    out = capsys.readouterr().out
    assert "读取 3 行 = 可导入 2 + 隔离 1 + 跳过 0" in out
    assert "隔离：时间无法识别 1 行（例如第 4 行“受理日期时间”列的值“待补录”）" in out
    assert "未匹配领域：1 条记录（1 种事项），最多的：某某事项（1）" in out
    assert not (store.warehouse_path()).exists()  # a dry run writes nothing
