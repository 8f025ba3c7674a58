"""Personal data never lands in the warehouse: names dropped, phones keyed-hashed, phone and ID
numbers, e-mail / QQ / WeChat ids and labelled names masked in every free-text column and in the
quarantined raw record — checked rule by rule, and by searching every text column of the
warehouse, the published snapshot and every export for the values an adversarial export planted."""

from __future__ import annotations

import hashlib
import io
import stat
import zipfile

import duckdb
import pytest

from etl import pii
from etl.cli import main as cli
from etl.load import load_files
from kpi import store

SECRET_FILE = "secret.key"  # where the README says the key lives

HEADER = "工单编号,来电时间,所属区县,来电号码,诉求人,诉求内容,办结时间"
LINES = [
    "GD1,2026-07-01 09:00,柯城区,13812345678,张三丰,我的电话13812345678，身份证33080219900101123X，请回电,2026-07-02 09:00",
    "GD2,2026-07-01 10:00,江山市,+86 138-1234-5678,张三丰,座机0570-8765432也可以,2026-07-02 09:00",
    "GD3,2026-07-01 11:00,衢江区,0570-8765432,李四光,联系人：赵六丰，我叫钱七，投诉人反映噪音,2026-07-02 09:00",
    # quarantined (closed before the call): its raw JSON must be just as clean
    "GD4,2026-07-05 11:00,衢江区,13900001111,王五,联系13900001111,2026-07-02 09:00",
]
PATTERNS = {
    "mobile": r"1[3-9][0-9]{9}",
    "id_number": r"[1-9][0-9]{16}[0-9Xx]",
    "landline": r"0[0-9]{2,3}-[0-9]{7,8}",
    "names": "张三丰|李四光|王五|赵六|钱七",
}


def test_snapshot_holds_no_phone_id_or_name(tmp_path, isolated_data_dir):
    path = tmp_path / "工单.csv"
    path.write_bytes(("\n".join([HEADER, *LINES]) + "\n").encode("gbk"))
    [report] = load_files([path])
    assert (report.rows_loaded, report.rows_quarantined) == (3, 1)
    con = store.connect_snapshot()
    columns = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR'"
    ).fetchall()
    assert ("hotline", "content") in columns and ("quarantine", "raw") in columns
    for table, column in columns:
        # 64 hex digits can contain a phone-like digit run by chance: the caller hash (checked
        # below) and the loaded file's checksum are digests, not data
        if column in ("caller_hash", "sha256"):
            continue
        for label, pattern in PATTERNS.items():
            hits = con.execute(
                f'SELECT count(*) FROM "{table}" WHERE regexp_matches("{column}", ?)', [pattern]
            ).fetchone()[0]
            assert hits == 0, f"{label} found in {table}.{column}"
    content = dict(con.execute("SELECT ticket_id, content FROM hotline").fetchall())
    assert content["GD1"] == "我的电话138****5678，身份证330802********123X，请回电"
    assert content["GD2"] == "座机0570-****5432也可以"
    # labelled names keep the surname only; "投诉人反映" (no colon) is a phrase, not a label
    assert content["GD3"] == "联系人：赵**，我叫钱**，投诉人反映噪音"
    hashes = dict(con.execute("SELECT ticket_id, caller_hash FROM hotline").fetchall())
    con.close()
    # the same number written two ways is the same caller; the hash is keyed (not a bare sha256)
    assert hashes["GD1"] == hashes["GD2"] != hashes["GD3"]
    assert hashes["GD1"] != hashlib.sha256(b"13812345678").hexdigest()
    key = (isolated_data_dir / SECRET_FILE).read_text().strip()
    assert hashes["GD1"] == hashlib.sha256((key + "13812345678").encode()).hexdigest()
    assert stat.S_IMODE((isolated_data_dir / SECRET_FILE).stat().st_mode) == 0o600


def test_the_secret_key_is_created_once_and_reused(tmp_path, isolated_data_dir):
    path = tmp_path / "工单.csv"
    path.write_text("\n".join([HEADER, LINES[0]]) + "\n", encoding="utf-8")
    load_files([path], build=False)
    first = (isolated_data_dir / SECRET_FILE).read_text()
    path.write_text("\n".join([HEADER, LINES[0].replace("GD1", "GD9")]) + "\n", encoding="utf-8")
    load_files([path], build=False)
    assert (isolated_data_dir / SECRET_FILE).read_text() == first
    con = store.connect_warehouse()
    assert con.execute("SELECT count(DISTINCT caller_hash) FROM hotline").fetchone()[0] == 1
    con.close()


# (text as exported, text as stored): expected values written by hand from the rules in the
# README's 个人信息 paragraph.
MASKING = [
    # mobile numbers in every form a person types them
    ("电话13812345678请回电", "电话138****5678请回电"),
    ("电话１３８１２３４５６７８请回电", "电话１３８****５６７８请回电"),
    ("手机号138 1234 5678", "手机号138****5678"),
    ("+86-138-1234-5678", "+86-138****5678"),
    ("手机138.1234.5678", "手机138****5678"),
    ("8613812345678", "86138****5678"),
    ("一三八一二三四五六七八", "一三八****五六七八"),
    ("幺三八幺二三四五六七八联系", "幺三八****五六七八联系"),
    ("13812345678,13912345678", "138****5678,139****5678"),
    # ID numbers; a 统一社会信用代码 (capitals, no birth date) is not one
    ("身份证33080219900101123x", "身份证330802********123x"),
    ("身份证 330802 19900101 123X", "身份证 330802********123X"),
    ("统一社会信用代码91330800MA28F3XX1X", "统一社会信用代码91330800MA28F3XX1X"),
    ("913308007043456789", "913308007043456789"),
    # landlines
    ("座机0570-8765432", "座机0570-****5432"),
    ("(0570)8765432", "(0570)****5432"),
    ("受理时间0001-01-01 00:00:00", "受理时间0001-01-01 00:00:00"),  # 00… is no area code: a date
    ("（０５７０）８７６５４３２", "（０５７０）****５４３２"),
    ("电话8765432", "电话****5432"),
    # e-mail, QQ, WeChat
    ("邮箱zhang.san@example.com", "邮箱***@example.com"),
    ("邮箱ｚｈａｎｇ＠qq.com", "邮箱***@qq.com"),
    ("QQ：123456789", "QQ：****"),
    ("qq号 1234 5678", "qq号 ****"),
    ("微信：zhang_san88", "微信：****"),
    ("微信号是 lihua_2026", "微信号是 ****"),
    ("vx13812345678", "vx****"),
    ("关注微信公众号", "关注微信公众号"),
    # names: after a colon, after 我叫, and without a colon before a surname
    ("联系人：赵六丰，我叫钱七，投诉人反映噪音", "联系人：赵**，我叫钱**，投诉人反映噪音"),
    ("我是王小明，想咨询", "我是王**，想咨询"),
    ("诉求人李四反映", "诉求人李**映"),
    ("经办人赵六", "经办人赵**"),
    ("填报人：钱七", "填报人：钱**"),
    ("填报人孙八", "填报人孙**"),
    ("申请人欧阳娜娜", "申请人欧阳**"),
    ("我是张三先生", "我是张**先生"),
    ("我是甄子丹", "我是甄**"),
    # kept: forms of address, phrases that only look like a label, business names, times
    ("申请人张先生", "申请人张先生"),
    ("联系人：李女士", "联系人：李女士"),
    ("投诉人反映噪音", "投诉人反映噪音"),
    ("申请人类型", "申请人类型"),
    ("我是企业法人", "我是企业法人"),
    ("申请人：衢州市星辰科技有限公司", "申请人：衢州市星辰科技有限公司"),
    ("申请人张家港市某某有限公司", "申请人张家港市某某有限公司"),
    ("申请人尚未提交，施工方称", "申请人尚未提交，施工方称"),
    ("申请人许可证过期", "申请人许可证过期"),
    ("本人身份证号", "本人身份证号"),
    ("衢州市星辰科技有限公司", "衢州市星辰科技有限公司"),
    ("2026-07-01 09:00:00", "2026-07-01 09:00:00"),
    ("20260701090500", "20260701090500"),
    ("330802202607011234567", "330802202607011234567"),
]


@pytest.mark.parametrize("text, expected", MASKING)
def test_masking_rules(text, expected):
    con = duckdb.connect()
    sql = f"SELECT {pii.masked_sql('x', pii.may_hold_sql(['x']))} FROM (SELECT ? AS x)"
    assert con.execute(sql, [text]).fetchone()[0] == expected


@pytest.mark.parametrize("text, expected", MASKING)
def test_the_quarantine_record_is_masked_by_the_same_rules_group_by_group(text, expected):
    con = duckdb.connect()
    sql = pii.masked_select("SELECT ? AS raw", "raw")
    assert con.execute(sql, [text]).fetchone()[0] == expected


# ── an adversarial export of each source: personal data planted in every free-text column ─────

MOBILE = "13957246813"
APPROVALS = [
    "办件编号,事项编码,事项名称,所属区县,办理部门,申请人类型,办理渠道,受理时间,办结时间,办件状态,法定时限,承诺时限,跑动次数",
    f"BJ1,330800-001,企业设立登记（联系人：王小明 {MOBILE}）,柯城区,柯城区市场监管局 经办人赵六一 电话0570-8724135,企业,窗口,2026-07-01 09:00,2026-07-03 10:00,已办结,15,3,0",
    "BJ2,330800-002,食品经营许可 申请人刘德华 身份证330802199003071234,江山市,衢州市星辰科技有限公司 邮箱 liu.dehua@example.com,个人 QQ 987654321,网办,2026-07-02 09:00,2026-07-04 10:00,办结（微信 wx_lihua_2026）,15,3,0",
    # quarantined (unreadable time): its raw record must be just as clean
    "BJ3,330800-003,我是孙悟空 手机１３９５７２４６８１３,衢江区,微信 wx_lihua_2026,企业,窗口,待补录,2026-07-04 10:00,已办结,15,3,0",
]
HOTLINE = [
    "工单编号,来电时间,所属区县,来电号码,诉求人,诉求类型,诉求分类,承办单位,诉求内容,办结时间",
    "GD1,2026-07-01 09:00,柯城区,13957246813,周杰伦,投诉,劳动保障 填报人：吴彦祖,柯城区人社局 QQ：987654321,"
    "我是周杰伦，电话一三九五七二四六八一三，身份证 330802 19900307 1234，衢州市星辰科技有限公司 91330800MA28F3XX1X,2026-07-02 09:00",
    "GD2,2026-07-01 10:00,江山市,0570-8724135,张先生,咨询,市场监管,江山市市场监管局 经办人郭富城,"
    "请联系张先生，或发邮件至 liu.dehua@example.com，微信号是 lihua_2026,2026-07-02 09:00",
    # quarantined (closed before the call)
    "GD3,2026-07-05 11:00,衢江区,13957246813,郭富城,投诉,诉求人郭富城,我是孙悟空,诉求人郭富城反映，电话 +86 139-5724-6813,2026-07-02 09:00",
]
RATINGS = [
    "评价编号,评价时间,所属区县,评价部门,事项编码,办件编号,评价等级,整改时间",
    f"PJ1,2026-07-01 09:00,江山市,江山市行政服务中心 联系人：黄晓明 {MOBILE},330800-001,BJ1,满意,",
    # quarantined (a level that is not one of the five)
    "PJ2,2026-07-01 09:00,江山市,我是马云 邮箱 liu.dehua@example.com,330800-001,BJ2,六星,",
]
REPORTS = [
    "所属区县,统计期,指标编码,指标值,填报单位,备注",
    "柯城区,2026Q3,gp_payment_days,12,人行柯城支行 经办人：成龙,填报人李小龙 手机 139 5724 6813",
    # quarantined (not filled in)
    "江山市,2026Q3,gp_payment_days,,人行江山支行 我是甄子丹,QQ 987654321",
]
# What must not survive anywhere: the middle digits of the planted numbers in each form they were
# written in, the e-mail / QQ / WeChat ids and the given names.
PLANTED = [
    "5724",
    "５７２４",
    "五七二四",
    "19900307",
    "8724135",
    "987654321",
    "liu.dehua",
    "lihua_2026",
    "小明",
    "六一",
    "德华",
    "悟空",
    "杰伦",
    "彦祖",
    "富城",
    "晓明",
    "马云",
    "成龙",
    "小龙",
    "子丹",
]
KEPT = ["衢州市星辰科技有限公司", "91330800MA28F3XX1X", "张先生"]


def _planted_in(text: str) -> list[str]:
    return [p for p in PLANTED if p in text]


def _scan_database(con, where: str) -> list[str]:
    found = []
    columns = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE data_type = 'VARCHAR' AND table_schema = 'main'"
    ).fetchall()
    assert ("quarantine", "raw") in columns and ("approvals", "item_name") in columns
    for table, column in columns:
        values = con.execute(f'SELECT DISTINCT "{column}" FROM "{table}"').fetchall()
        for (v,) in values:
            found += [f"{where} {table}.{column}: {p}" for p in _planted_in(v or "")]
    return found


def _xlsx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))


def test_adversarial_exports_leave_no_personal_data_anywhere(tmp_path, isolated_data_dir):
    from kpi.read import exports, queries

    paths = []
    for name, lines in (
        ("办件.csv", APPROVALS),
        ("工单.csv", HOTLINE),
        ("好差评.csv", RATINGS),
        ("填报.csv", REPORTS),
    ):
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    reports = load_files(paths)
    assert [(r.source, r.rows_loaded, r.rows_quarantined) for r in reports] == [
        ("approvals", 2, 1),
        ("hotline", 2, 1),
        ("ratings", 1, 1),
        ("reports", 1, 1),
    ]
    found = []
    con = store.connect_warehouse()
    found += _scan_database(con, "warehouse")
    con.close()
    con = store.connect_snapshot()
    found += _scan_database(con, "snapshot")
    # business names, the credit code and the form of address are kept as they were
    content = " ".join(v for (v,) in con.execute("SELECT content FROM hotline").fetchall())
    assert all(k in content for k in KEPT), content
    # what the pages offer for download: 明细 of each source, the quarantine examples, the loads
    for source in ("approvals", "hotline", "ratings"):
        frame = queries.records(con, source, period="2026Q3", limit=1000)
        assert not frame.empty, source
        found += [
            f"明细 CSV {source}: {p}"
            for p in _planted_in(exports.csv_bytes(frame).decode("utf-8-sig"))
        ]
        found += [
            f"明细 XLSX {source}: {p}"
            for p in _planted_in(_xlsx_text(exports.xlsx_bytes({"明细": frame})))
        ]
    for name, frame in (
        ("quarantine_examples", queries.quarantine_examples(con, 10)),
        ("quarantine_summary", queries.quarantine_summary(con)),
        ("loads", queries.loads(con)),
    ):
        assert not frame.empty, name
        found += [
            f"{name} CSV: {p}" for p in _planted_in(exports.csv_bytes(frame).decode("utf-8-sig"))
        ]
    con.close()
    # the CLI's exports: the review workbook and a score table
    review, table = tmp_path / "评议.xlsx", tmp_path / "indicators.csv"
    assert cli(["export", "--period", "2026Q3", "--out", str(review)]) == 0
    assert cli(["export", "--period", "2026Q3", "--table", "indicators", "--out", str(table)]) == 0
    found += [f"评议材料: {p}" for p in _planted_in(_xlsx_text(review.read_bytes()))]
    found += [f"indicators.csv: {p}" for p in _planted_in(table.read_text(encoding="utf-8-sig"))]
    assert found == []


def test_only_columns_with_a_suspicious_value_get_the_masking_rules():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE raw AS SELECT * FROM (VALUES "
        "('企业设立登记', '市场监管局', '已办结'), ('食品经营许可', '经办人赵六', '已办结'), "
        "('企业设立登记', '市场监管局', NULL)) t(c0, c1, c2)"
    )
    assert pii.suspect_columns(con, "raw", [0, 1, 2]) == {1}
    assert pii.suspect_columns(con, "raw", []) == set()
