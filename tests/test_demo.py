"""The demo generator, checked from the outside: files are read back with independent readers
(pandas, openpyxl, chinese-calendar), and every count is recomputed here, not taken from the code.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import threading
from pathlib import Path

import chinese_calendar
import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml

from etl import demo
from etl.cli import main as cli_main
from kpi import settings

REPO = Path(__file__).resolve().parent.parent
APPROVAL_HEADERS = [
    "办件编号",
    "事项编码",
    "事项名称",
    "所属区县",
    "办理部门",
    "申请人类型",
    "办理渠道",
    "受理时间",
    "办结时间",
    "办件状态",
    "办件类型",
    "法定时限",
    "承诺时限",
    "延期时限",
    "特别程序时限",
    "跑动次数",
]
HOTLINE_HEADERS = [
    "工单编号",
    "来电时间",
    "受理渠道",
    "诉求人类型",
    "紧急程度",
    "诉求类型",
    "诉求分类",
    "所属区县",
    "承办单位",
    "签收时间",
    "办结时间",
    "办理时限",
    "延期天数",
    "是否回访",
    "是否解决",
    "满意度",
    "是否重复",
    "来电号码",
    "诉求人",
    "诉求内容",
]
RATING_HEADERS = [
    "评价编号",
    "评价时间",
    "评价渠道",
    "所属区县",
    "评价部门",
    "事项编码",
    "办件编号",
    "评价次数",
    "评价等级",
    "是否整改",
    "整改时间",
    "是否回访",
    "申诉复核结果",
]
REPORT_HEADERS = [
    "所属区县",
    "统计期",
    "指标编码",
    "指标名称",
    "指标值",
    "分子",
    "分母",
    "填报单位",
    "填报时间",
    "备注",
]
LEVELS = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
NOW = pd.Timestamp(dt.datetime.now())  # generous: the generator cuts at Shanghai midnight
FULL = [
    "2024Q2",
    "2024Q3",
    "2024Q4",
    "2025Q1",
    "2025Q2",
    "2025Q3",
    "2025Q4",
    "2026Q1",
    "2026Q2",
    "2026Q3",
]


# ── independent readers ───────────────────────────────────────────────────────────────────


def _district_labels(catalog: Path = REPO / "data" / "catalog") -> set[str]:
    """Every way the catalogue lets an export name a district: code, name, short name, aliases."""
    out: set[str] = set()
    with open(catalog / "districts.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["level"] == "district":
                out |= {row["district_code"], row["district_name"], row["short_name"]}
                out |= set(filter(None, row["aliases"].split("|")))
    return out


def _name_of(catalog: Path = REPO / "data" / "catalog") -> dict[str, str]:
    """label (code, short name, alias) → the district's full name."""
    out: dict[str, str] = {}
    with open(catalog / "districts.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            labels = {row["district_code"], row["district_name"], row["short_name"]}
            for label in labels | set(filter(None, row["aliases"].split("|"))):
                out[label] = row["district_name"]
    return out


def _read_approvals(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def _read_hotline(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, encoding="gbk", skiprows=1, dtype=str, keep_default_na=False)
    return df


def _read_xlsx(path: Path, header_row: int) -> pd.DataFrame:
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = list(wb.active.iter_rows(min_row=header_row, values_only=True))
    wb.close()
    return pd.DataFrame(rows[1:], columns=list(rows[0]))


def _workday_seq(first: dt.date, last: dt.date) -> pd.Series:
    """Running count of Chinese working days, straight from chinese-calendar."""
    days = pd.date_range(first, last)
    flags = [chinese_calendar.is_workday(d.date()) for d in days]
    return pd.Series(np.cumsum(flags), index=days)


def _approval_frame(out: Path) -> pd.DataFrame:
    frames = []
    for f in sorted(out.glob("办件明细_*.csv")):
        frames.append(_read_approvals(f).assign(file=f.stem[-6:]))
    a = pd.concat(frames, ignore_index=True)
    a["acc"] = pd.to_datetime(a["受理时间"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    a["done"] = pd.to_datetime(a["办结时间"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    return a


def _clean(
    df: pd.DataFrame, manifest_entry_by_file: dict, line_offset: int, id_col: str
) -> pd.DataFrame:
    """Drop the rows the manifest lists as dirty (by physical line)."""
    keep = []
    for file, part in df.groupby("file", sort=False):
        entry = manifest_entry_by_file[file]
        bad = {line for lines in entry["dirty_lines"].values() for line in lines}
        bad |= set(entry["superseded_lines"])  # older versions the loader skips
        lines = part.index - part.index.min() + line_offset
        keep.append(part[~np.isin(lines, list(bad))])
    out = pd.concat(keep)
    out["所属区县"] = out["所属区县"].map(_name_of())  # 柯城 / 330802 → 柯城区
    return out


def _spearman(values: list[float]) -> float:
    ranks = pd.Series(values).rank()
    return float(np.corrcoef(ranks, np.arange(len(values)))[0, 1])


# ── fixtures ──────────────────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    """Ten full quarters (2024Q2–2026Q3) at a quarter of the default volume."""
    out = tmp_path_factory.mktemp("demo_city")
    demo.generate(out, scale=0.25, quarters=10, end_period="2026Q3")
    return out


@pytest.fixture(scope="module")
def manifest(city) -> dict:
    return json.loads((city / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def entries(manifest) -> dict:
    return {e["file"]: e for e in manifest["files"]}


# ── determinism ───────────────────────────────────────────────────────────────────────────


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def test_same_seed_gives_byte_identical_files(tmp_path):
    for name in ("a", "b"):
        demo.generate(tmp_path / name, scale=0.03, quarters=2, end_period="2026Q3")
    demo.generate(tmp_path / "c", seed=7, scale=0.03, quarters=2, end_period="2026Q3")
    a, b, c = (_hashes(tmp_path / n) for n in "abc")
    assert len(a) == 2 * 4 + 1  # four kinds per quarter + manifest
    assert a == b
    assert all(a[name] != c[name] for name in a if name != "manifest.json")


# ── formats ───────────────────────────────────────────────────────────────────────────────


def test_approvals_are_utf8_csv_some_with_bom(city):
    files = sorted(city.glob("办件明细_*.csv"))
    assert len(files) == 10
    boms = [f.read_bytes()[:3] == b"\xef\xbb\xbf" for f in files]
    assert any(boms) and not all(boms)
    df = _read_approvals(files[-1])
    assert list(df.columns) == APPROVAL_HEADERS
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", df["受理时间"].iloc[0])
    assert set(df["办件状态"]) <= {"已办结", "办理中", "不予受理"}
    assert set(df["申请人类型"]) == {"企业", "个人"}
    assert set(df["办理渠道"]) == {"全程网办", "窗口", "自助终端", "移动端"}
    items = pd.read_csv(REPO / "data" / "catalog" / "items.csv", dtype=str)
    ok = df["法定时限"].str.fullmatch(r"\d+")
    merged = df[ok].merge(items, left_on="事项编码", right_on="item_code")
    assert len(merged) == ok.sum()  # every item is a catalogue item …
    assert (merged["法定时限"] == merged["legal_limit_days"]).all()  # … with its legal limit
    # … and a promise no longer than the catalogue's: a district may promise fewer days, and
    # lists some simple items as 即办件 (承诺时限 0)
    promised = merged["承诺时限"].astype(int)
    assert (promised <= merged["promised_limit_days"].astype(int)).all()
    assert (promised < merged["promised_limit_days"].astype(int)).any()
    assert ((merged["办件类型"] == "即办件") == (promised == 0)).all()
    assert set(df["办件类型"]) == {"即办件", "承诺件"}
    labels = df["所属区县"]
    assert labels.isin(["柯城", "衢江", "江山"]).any() and labels.str.fullmatch(r"3308\d\d").any()


def test_hotline_is_gbk_with_title_and_total_rows(city):
    path = city / "12345工单明细_2026Q3.csv"
    raw = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    lines = raw.decode("gbk").split("\r\n")
    assert lines[0].startswith("2026年第三季度12345工单明细")
    df = _read_hotline(path)
    assert list(df.columns) == HOTLINE_HEADERS
    total = df.iloc[-1]
    assert total["工单编号"] == "合计"
    assert int(total["来电时间"]) == len(df) - 1
    body = df.iloc[:-1]
    assert re.fullmatch(r"\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}", body["来电时间"].iloc[0])
    assert body["来电时间"].str.contains(r"/\d/| \d:").any()  # no zero padding
    assert set(body["满意度"]) == {"非常满意", "满意", "基本满意", "不满意", "非常不满意", ""}
    assert set(body["紧急程度"]) == {"紧急", "一般"}
    assert set(body["是否回访"]) == {"是", "否", ""}  # "": still open, no 回访 yet
    assert set(body["是否解决"]) == {"是", "否", ""}
    topics = pd.read_csv(REPO / "data" / "catalog" / "hotline_topics.csv")["topic"]
    assert body["诉求分类"].isin(topics).all()
    assert body["来电号码"].str.fullmatch(r"1[3-9]\d{9}").all()
    assert body["来电号码"].duplicated().any()  # repeat callers
    assert body["诉求内容"].str.contains(r"1[3-9]\d{9}").any()
    assert body["诉求内容"].str.contains(r"\d{17}[\dX]").any()


def test_ratings_xlsx_has_real_datetime_cells(city):
    wb = openpyxl.load_workbook(city / "好差评明细_2026Q3.xlsx", read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    wb.close()
    assert list(rows[0]) == RATING_HEADERS
    rated = [r[1] for r in rows[1:]]
    assert sum(isinstance(v, dt.datetime) for v in rated) > 0.97 * len(rated)
    df = pd.DataFrame(rows[1:], columns=rows[0])
    assert set(df["评价等级"]) >= set(LEVELS)
    bad = df[df["评价等级"].isin(["不满意", "非常不满意"])]
    assert set(bad["是否整改"]) == {"是", "否"}  # 差评 with and without 整改
    fixed = bad[bad["是否整改"] == "是"]
    ok_time = fixed["评价时间"].map(lambda v: isinstance(v, dt.datetime))
    assert (fixed.loc[ok_time, "整改时间"] > fixed.loc[ok_time, "评价时间"]).all()
    assert df.loc[~df["评价等级"].isin(["不满意", "非常不满意"]), "整改时间"].isna().all()
    assert set(df["评价渠道"]) <= {
        "PC端",
        "移动端",
        "二维码",
        "政务大厅平板电脑",
        "政务大厅其他终端",
        "电话",
        "短信",
    }


def test_reports_follow_metrics_yaml(city):
    spec = yaml.safe_load(settings.metrics_path().read_text(encoding="utf-8"))
    keys = {
        i["key"]: i
        for d in spec["domains"]
        for i in d["indicators"]
        if i.get("source") == "reports"
    }
    assert keys, "metrics.yaml has reports indicators"
    wb = openpyxl.load_workbook(city / "指标填报_2026Q3.xlsx", read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    wb.close()
    assert "2026年第三季度" in rows[0][0]
    assert list(rows[1]) == REPORT_HEADERS
    df = pd.DataFrame(rows[2:], columns=rows[1])
    assert set(df["指标编码"]) == set(keys)
    assert (df["统计期"] == "2026Q3").all()
    number = df["指标值"].map(lambda v: isinstance(v, float | int))
    # the value, or 分子 ÷ 分母 for one filed in parts (× 100 for a %)
    scale = df["指标编码"].map(lambda k: 100.0 if keys[k].get("unit") == "%" else 1.0)
    parts = df["指标编码"].map(lambda k: bool(keys[k].get("reported")))
    value = df["指标值"].where(number, df["分子"].astype(float) / df["分母"].astype(float) * scale)
    good = df.assign(v=value)[number | parts]
    lo = good["指标编码"].map(lambda k: min(keys[k]["dtf"]["best"], keys[k]["dtf"]["worst"]))
    hi = good["指标编码"].map(lambda k: max(keys[k]["dtf"]["best"], keys[k]["dtf"]["worst"]))
    assert ((good["v"] >= lo - 1e-6) & (good["v"] <= hi + 1e-6)).all()
    assert df.loc[parts & ~df["所属区县"].str.contains("未知|某某"), "分母"].notna().all()
    # who files: a city-level indicator the city only; one in parts each district (not the city);
    # a plain one each district and the city — a few due rows missing (应报未报)
    city_name = "衢州市"
    for key, ind in keys.items():
        who = set(df.loc[df["指标编码"] == key, "所属区县"]) - {"衢州市未知区", "某某区"}
        if ind.get("applies_to") == "city":
            assert who == {city_name}, key
        elif ind.get("reported"):
            assert city_name not in who and len(who) >= 4, key
        else:
            assert city_name in who and len(who) >= 5, key
    assert len(df) < 7 * len(keys)  # some filings are missing
    assert pd.to_datetime(df["填报时间"]).min() >= pd.Timestamp("2026-10-01")
    assert not (city / "指标填报_2026Q4.xlsx").exists()


# ── manifest vs an independent validator ──────────────────────────────────────────────────


def _reasons_approvals(df: pd.DataFrame, labels: set[str]) -> pd.DataFrame:
    acc = pd.to_datetime(df["受理时间"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    done = pd.to_datetime(df["办结时间"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    numbers = df[["法定时限", "承诺时限", "跑动次数"]]
    return pd.DataFrame(
        {
            "缺少编号": df["办件编号"] == "",
            "时间无法识别": acc.isna() | (done.isna() & (df["办结时间"] != "")),
            "区县未知": ~df["所属区县"].isin(labels),
            "办结时间早于受理时间": done < acc,
            "时间晚于当前时间": (acc > NOW) | (done > NOW),
            "数值无法识别": ~numbers.apply(lambda c: c.str.fullmatch(r"\d+")).all(axis=1),
        }
    )


def _reasons_hotline(df: pd.DataFrame, labels: set[str]) -> pd.DataFrame:
    fmt = "%Y/%m/%d %H:%M"
    recv = pd.to_datetime(df["来电时间"], format=fmt, errors="coerce")
    closed = pd.to_datetime(df["办结时间"], format=fmt, errors="coerce")
    return pd.DataFrame(
        {
            "缺少编号": df["工单编号"] == "",
            "时间无法识别": recv.isna() | (closed.isna() & (df["办结时间"] != "")),
            "区县未知": ~df["所属区县"].isin(labels),
            "办结时间早于来电时间": closed < recv,
            "时间晚于当前时间": (recv > NOW) | (closed > NOW),
            "数值无法识别": ~df["办理时限"].str.fullmatch(r"\d+"),
        }
    )


def _reasons_ratings(df: pd.DataFrame, labels: set[str]) -> pd.DataFrame:
    is_time = df["评价时间"].map(lambda v: isinstance(v, dt.datetime))
    rated = pd.to_datetime(df["评价时间"].where(is_time), errors="coerce")
    return pd.DataFrame(
        {
            "缺少编号": df["评价编号"].isna(),
            "时间无法识别": ~is_time,
            "区县未知": ~df["所属区县"].isin(labels),
            "时间晚于当前时间": rated > NOW,
            "评价等级超出五级": ~df["评价等级"].isin(LEVELS),
        }
    )


def _superseded(df: pd.DataFrame, reasons: pd.DataFrame, id_col: str) -> pd.Series:
    """Rows otherwise clean whose id occurs again on a later otherwise-clean row: the older
    versions the loader skips (the later row wins, etl.versions)."""
    clean = ~reasons.any(axis=1)
    return clean & df[id_col].where(clean).duplicated(keep="last") & clean


@pytest.mark.parametrize(
    "pattern,reader,check,id_col,first_line",
    [
        ("办件明细_*.csv", _read_approvals, _reasons_approvals, "办件编号", 2),
        ("12345工单明细_*.csv", _read_hotline, _reasons_hotline, "工单编号", 3),
        ("好差评明细_*.xlsx", lambda p: _read_xlsx(p, 1), _reasons_ratings, "评价编号", 2),
    ],
)
def test_manifest_matches_an_independent_validator(
    city, entries, pattern, reader, check, id_col, first_line
):
    labels = _district_labels()
    files = sorted(city.glob(pattern))
    assert files
    for path in files:
        df = reader(path)
        if df[id_col].iloc[-1] == "合计":
            df = df.iloc[:-1]
        reasons = check(df, labels)
        older = _superseded(df, reasons, id_col)
        assert (reasons.sum(axis=1) <= 1).all(), f"{path.name}: a dirty row has two defects"
        entry = entries[path.name]
        assert entry["data_rows"] == len(df)
        found = {k: int(v) for k, v in reasons.sum().items() if v}
        assert found == entry["dirty_rows"], path.name
        assert entry["superseded_lines"] == (np.flatnonzero(older) + first_line).tolist()
        assert entry["clean_rows"] == int((~reasons.any(axis=1) & ~older).sum())
        for reason, lines in entry["dirty_lines"].items():
            assert sorted(np.flatnonzero(reasons[reason]) + first_line) == lines


def test_reports_dirty_rows_match(city, entries):
    labels = _district_labels() | {"衢州市"}  # the city files its own figures too
    for path in sorted(city.glob("指标填报_*.xlsx")):
        df = _read_xlsx(path, 2)
        number = df["指标值"].map(lambda v: isinstance(v, float | int))
        in_parts = df["指标值"].isna() & df["分子"].notna() & df["分母"].notna()
        found = {
            "区县未知": int((~df["所属区县"].isin(labels)).sum()),
            "数值无法识别": int((~(number | in_parts)).sum()),
        }
        assert {k: v for k, v in found.items() if v} == entries[path.name]["dirty_rows"]


def test_dirty_share_is_about_one_percent_of_every_kind(manifest):
    kinds = {
        "approvals": {
            "缺少编号",
            "时间无法识别",
            "区县未知",
            "办结时间早于受理时间",
            "时间晚于当前时间",
            "数值无法识别",
        },
        "hotline": {
            "缺少编号",
            "时间无法识别",
            "区县未知",
            "办结时间早于来电时间",
            "时间晚于当前时间",
            "数值无法识别",
        },
        "ratings": {
            "缺少编号",
            "时间无法识别",
            "区县未知",
            "时间晚于当前时间",
            "评价等级超出五级",
        },
        "reports": {"区县未知", "数值无法识别"},
    }
    for source, expected in kinds.items():
        files = [e for e in manifest["files"] if e["source"] == source]
        rows = sum(e["data_rows"] for e in files)
        by_kind: dict[str, int] = {}
        for e in files:
            for k, v in e["dirty_rows"].items():
                by_kind[k] = by_kind.get(k, 0) + v
        assert set(by_kind) == expected, source
        # and two versions of some records (the earlier one skipped, never quarantined)
        older = sum(len(e["superseded_lines"]) for e in files)
        assert (older > 0) == (source != "reports"), source
        share = (sum(by_kind.values()) + 2 * older) / rows
        assert 0.007 <= share <= 0.015, (source, share)


# ── structure in the numbers ──────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def approvals_clean(city, entries) -> pd.DataFrame:
    a = _clean(
        _approval_frame(city),
        {f.stem[-6:]: entries[f.name] for f in city.glob("办件明细_*.csv")},
        2,
        "办件编号",
    )
    seq = _workday_seq(dt.date(2024, 3, 1), dt.date(2026, 12, 31))
    done = a[a["done"].notna()].copy()
    done["workdays"] = (
        seq.reindex(done["done"].dt.normalize()).to_numpy()
        - seq.reindex(done["acc"].dt.normalize()).to_numpy()
    )
    done["hours"] = (done["done"] - done["acc"]).dt.total_seconds() / 3600
    return done


def test_quzhou_districts_differ_and_trend(approvals_clean):
    done = approvals_clean[approvals_clean["办件状态"] == "已办结"]
    mean_wd = done.pivot_table(index="所属区县", columns="file", values="workdays", aggfunc="mean")
    online = done.assign(o=done["办理渠道"] == "全程网办").pivot_table(
        index="所属区县", columns="file", values="o", aggfunc="mean"
    )
    qj, kh = mean_wd.loc["衢江区", FULL].tolist(), mean_wd.loc["开化县", FULL].tolist()
    assert _spearman(qj) < -0.7 and qj[-1] < 0.7 * qj[0]  # 衢江区 gets faster
    assert all(qj[i] < qj[i - 4] for i in range(4, len(qj)))  # … than a year before, every time
    assert _spearman(kh) > 0.7 and kh[-1] > 1.3 * kh[0]  # 开化县 gets slower
    assert _spearman(online.loc["衢江区", FULL].tolist()) > 0.8
    assert _spearman(online.loc["开化县", FULL].tolist()) < -0.8
    # 柯城区 is consistently among the best: top three in every quarter (开化县 starts on top)
    assert (mean_wd[FULL].rank().loc["柯城区"] <= 3).all()
    assert online.loc[:, FULL].stack().between(0.35, 0.9).all()


def test_spring_festival_slows_q1(approvals_clean):
    done = approvals_clean[approvals_clean["办件状态"] == "已办结"]
    for district in ("柯城区", "江山市", "龙游县"):
        d = done[done["所属区县"] == district]
        by_q = d.groupby("file")[["workdays", "hours"]].mean()
        assert by_q.loc["2026Q1", "workdays"] > by_q.loc["2026Q3", "workdays"]
        assert by_q.loc["2025Q1", "workdays"] > by_q.loc["2025Q3", "workdays"]
        assert by_q.loc["2026Q1", "hours"] > 1.1 * by_q.loc["2026Q3", "hours"]


def test_on_time_rates_and_visits_are_realistic(approvals_clean):
    done = approvals_clean[approvals_clean["办件状态"] == "已办结"]
    on_time = (
        done.assign(ok=done["workdays"] <= done["承诺时限"].astype(int))
        .groupby(["所属区县", "file"])["ok"]
        .mean()
    )
    assert on_time.between(0.75, 0.99).all()
    assert set(done["跑动次数"]) == {"0", "1", "2"}
    assert (done.loc[done["办理渠道"] == "全程网办", "跑动次数"] != "2").all()


def test_acceptance_follows_working_days_and_hours(approvals_clean):
    acc = approvals_clean["acc"]
    assert acc.dt.date.map(chinese_calendar.is_workday).all()
    assert acc.dt.hour.between(8, 17).all()
    per_weekday = acc.dt.day_of_week.value_counts()
    assert per_weekday[0] > per_weekday[4]  # Mondays are busier than Fridays


def _hotline_frame(city, entries) -> pd.DataFrame:
    frames = [
        _read_hotline(f).iloc[:-1].assign(file=f.stem[-6:])
        for f in sorted(city.glob("12345工单明细_*.csv"))
    ]
    h = pd.concat(frames, ignore_index=True)
    return _clean(
        h, {f.stem[-6:]: entries[f.name] for f in city.glob("12345工单明细_*.csv")}, 3, "工单编号"
    )


def test_hotline_resolution_and_satisfaction_move(city, entries):
    h = _hotline_frame(city, entries)
    asked = h[h["是否解决"] != ""]
    res = asked.assign(ok=asked["是否解决"] == "是").pivot_table(
        index="所属区县", columns="file", values="ok", aggfunc="mean"
    )
    rated = h[h["满意度"] != ""]
    sat = rated.assign(ok=rated["满意度"] != "不满意").pivot_table(
        index="所属区县", columns="file", values="ok", aggfunc="mean"
    )
    kh, qj = res.loc["开化县", FULL].tolist(), res.loc["衢江区", FULL].tolist()
    assert _spearman(kh) < -0.7 and kh[-1] < kh[0] - 0.08
    assert _spearman(qj) > 0.7 and qj[-1] > qj[0] + 0.08
    assert _spearman(sat.loc["衢江区", FULL].tolist()) > 0.6
    assert res.loc[:, FULL].stack().between(0.7, 0.98).all()
    assert sat.loc[:, FULL].stack().between(0.78, 0.99).all()
    # late tickets exist: closed after more working days than the limit allows
    fmt = "%Y/%m/%d %H:%M"
    closed = h[h["办结时间"] != ""]
    seq = _workday_seq(dt.date(2024, 3, 1), dt.date(2026, 12, 31))
    used = (
        seq.reindex(pd.to_datetime(closed["办结时间"], format=fmt).dt.normalize()).to_numpy()
        - seq.reindex(pd.to_datetime(closed["来电时间"], format=fmt).dt.normalize()).to_numpy()
    )
    late = used > closed["办理时限"].astype(int).to_numpy()
    assert 0.01 < late.mean() < 0.2


def test_ratings_good_rate_in_range(city, entries):
    frames = []
    for f in sorted(city.glob("好差评明细_*.xlsx")):
        df = _read_xlsx(f, 1).assign(file=f.stem[-6:])
        frames.append(df)
    r = _clean(
        pd.concat(frames, ignore_index=True),
        {f.stem[-6:]: entries[f.name] for f in city.glob("好差评明细_*.xlsx")},
        2,
        "评价编号",
    )
    good = r.assign(ok=~r["评价等级"].isin(["不满意", "非常不满意"])).pivot_table(
        index="所属区县", columns="file", values="ok", aggfunc="mean"
    )
    assert good.stack().between(0.95, 1.0).all()  # published county rates: 99.5–99.96 %
    assert good.loc["柯城区"].mean() > good.loc["开化县"].mean()


def test_current_quarter_stops_before_now(tmp_path):
    out = tmp_path / "now"
    demo.generate(out, scale=0.03, quarters=2)  # up to the quarter containing today
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    entries = {
        e["file"]: e for e in json.loads((out / "manifest.json").read_text("utf-8"))["files"]
    }
    for path in sorted(out.glob("办件明细_*.csv")):
        df = _read_approvals(path)
        acc = pd.to_datetime(df["受理时间"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
        done = pd.to_datetime(df["办结时间"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
        future = (acc.dt.date >= today) | (done.dt.date >= today)
        lines = entries[path.name]["dirty_lines"].get("时间晚于当前时间", [])
        assert sorted(np.flatnonzero(future) + 2) == lines  # only the injected future rows
    for path in sorted(out.glob("12345工单明细_*.csv")):
        h = _read_hotline(path).iloc[:-1]
        times = h[["来电时间", "签收时间", "办结时间"]].apply(
            lambda c: pd.to_datetime(c, format="%Y/%m/%d %H:%M", errors="coerce").dt.date
        )
        future = (times >= today).any(axis=1)
        lines = entries[path.name]["dirty_lines"].get("时间晚于当前时间", [])
        assert sorted(np.flatnonzero(future) + 3) == lines
    assert (df["办件状态"] == "办理中").any()  # cases still open at the cut-off …
    assert (df.loc[df["办件状态"] == "办理中", "办结时间"] == "").all()  # … have no 办结时间


def test_synthetic_districts_come_with_a_catalogue(tmp_path):
    out = tmp_path / "big"
    written = demo.generate(
        out, scale=0.05, districts=9, quarters=1, end_period="2026Q3", sources=("approvals",)
    )
    cat = out / "catalog"
    assert written["catalog"] and (cat / "items.csv").exists()
    with open(cat / "districts.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    districts = [r for r in rows if r["level"] == "district"]
    assert len(districts) == 9
    assert len({r["district_code"] for r in rows}) == len(rows)
    assert len({r["district_name"] for r in rows}) == len(rows)
    df = _read_approvals(written["approvals"][0])
    labels = _district_labels(cat)
    unknown = df[~df["所属区县"].isin(labels)]
    assert (
        len(unknown)
        == json.loads((out / "manifest.json").read_text())["files"][0]["dirty_rows"]["区县未知"]
    )
    assert df["所属区县"].isin({r["district_name"] for r in districts[6:]}).any()
    # the extra districts bring their own records on top of the six
    six = demo.generate(
        tmp_path / "six", scale=0.05, quarters=1, end_period="2026Q3", sources=("approvals",)
    )
    assert len(df) > 1.1 * len(_read_approvals(six["approvals"][0]))


def test_no_reports_without_metrics_file(tmp_path, monkeypatch):
    monkeypatch.setenv("BIZENV_METRICS", str(tmp_path / "missing.yaml"))
    written = demo.generate(tmp_path / "o", scale=0.02, quarters=1, end_period="2026Q3")
    assert written["reports"] == []
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text(encoding="utf-8"))
    assert any("metrics.yaml" in n for n in manifest["notes"])


# ── CLI and bootstrap ─────────────────────────────────────────────────────────────────────


def test_cli_sample_writes_and_reports(tmp_path, capsys):
    rc = cli_main(
        [
            "sample",
            "--out",
            str(tmp_path / "s"),
            "--scale",
            "0.02",
            "--quarters",
            "2",
            "--end-period",
            "2026Q3",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert "已生成演示数据" in out and "行/秒" in out and "bizenv load" in out
    assert len(list((tmp_path / "s").glob("*.csv"))) == 4


@pytest.mark.parametrize(
    "args,words",
    [
        (["--scale", "0"], "--scale"),
        (["--end-period", "2031Q1"], "尚未开始"),
        (["--end-period", "明年"], "无法识别"),
        (["--quarters", "0"], "--quarters"),
    ],
)
def test_cli_sample_rejects_bad_options(tmp_path, capsys, args, words):
    rc = cli_main(["sample", "--out", str(tmp_path / "x"), *args])
    err = capsys.readouterr().err
    assert rc == 2
    assert words in err and "Traceback" not in err


def test_bootstrap_generates_once_and_loads(tmp_path, monkeypatch):
    from etl import bootstrap
    from kpi import store

    calls = []
    real = demo.generate

    def small(out_dir, **kw):
        calls.append(out_dir)
        return real(
            out_dir, scale=0.02, quarters=2, end_period="2026Q3", progress=kw.get("progress")
        )

    monkeypatch.setattr(bootstrap.demo, "generate", small)
    seen: list[float] = []
    results: list[Path] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(
                bootstrap.ensure_demo_snapshot(lambda f, m: seen.append(f))
            )
        )
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1  # the lock made the second session wait, not bootstrap again
    assert results[0] == results[1] == store.current_snapshot_path()
    assert seen[-1] == 1.0 and max(f for f in seen if f < 0.31) <= 0.3 + 1e-9
    assert bootstrap.ensure_demo_snapshot() == results[0] and len(calls) == 1
    assert (settings.data_dir() / bootstrap.LOCK_FILE).exists()


def test_ratings_beyond_excel_row_limit_continue_in_part_files(tmp_path, monkeypatch):
    from etl.demo import context, generator

    monkeypatch.setattr(context, "CHUNK_ROWS", 100)
    monkeypatch.setattr(generator, "XLSX_MAX_DATA_ROWS", 300)
    written = demo.generate(
        tmp_path, scale=0.2, quarters=1, end_period="2026Q3", sources=("ratings",)
    )
    names = [p.name for p in written["ratings"]]
    assert names[:3] == [
        "好差评明细_2026Q3.xlsx",
        "好差评明细_2026Q3_2.xlsx",
        "好差评明细_2026Q3_3.xlsx",
    ]
    sizes = [len(_read_xlsx(p, 1)) for p in written["ratings"]]
    assert all(n <= 300 for n in sizes) and sizes[0] == 300
    ids = pd.concat([_read_xlsx(p, 1)["评价编号"] for p in written["ratings"]]).dropna()
    # ids run on across the parts; only the injected duplicates repeat, and only inside one file
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    dups = sum(e["duplicate_ids"] for e in manifest["files"])
    assert ids.duplicated().sum() == dups


def test_rerun_replaces_its_own_files_only(tmp_path):
    demo.generate(tmp_path, scale=0.02, quarters=2, end_period="2026Q3")
    (tmp_path / "我的笔记.txt").write_text("keep", encoding="utf-8")
    demo.generate(tmp_path, scale=0.02, quarters=1, end_period="2026Q2")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(
        [
            "manifest.json",
            "我的笔记.txt",
            "办件明细_2026Q2.csv",
            "12345工单明细_2026Q2.csv",
            "好差评明细_2026Q2.xlsx",
            "指标填报_2026Q2.xlsx",
        ]
    )


def test_cli_sample_load_publishes_a_snapshot(tmp_path, capsys):
    from kpi import store

    assert store.current_snapshot_path() is None
    rc = cli_main(
        [
            "sample",
            "--out",
            str(tmp_path / "s"),
            "--scale",
            "0.02",
            "--quarters",
            "1",
            "--end-period",
            "2026Q3",
            "--load",
        ]
    )
    assert rc == 0
    assert store.current_snapshot_path() is not None
    assert "好差评明细_2026Q3.xlsx" in capsys.readouterr().out


# ── the generator's calendar (expected days from the 国务院 holiday notices, by hand) ─────────


@pytest.fixture(scope="module")
def cal():
    from etl.demo.timeline import WorkCalendar

    return WorkCalendar(dt.date(2025, 9, 1), dt.date(2027, 1, 31))


@pytest.mark.parametrize(
    "start,k,expected",
    [
        ("2026-02-13", 0, "2026-02-13"),  # same day
        ("2026-02-13", 1, "2026-02-14"),  # Saturday 14 Feb is a 调休 working day
        ("2026-02-13", 2, "2026-02-24"),  # 春节 15–23 Feb off
        ("2026-02-15", 1, "2026-02-24"),  # from inside the holiday
        ("2025-09-27", 1, "2025-09-28"),  # Sunday 28 Sep is a 调休 working day
        ("2025-09-30", 1, "2025-10-09"),  # 国庆 1–8 Oct off
        ("2027-01-01", 1, "2027-01-04"),  # 2027 unknown to chinese-calendar: weekdays only
    ],
)
def test_add_workdays(cal, start, k, expected):
    i = cal.index(dt.date.fromisoformat(start))
    got = cal.add_workdays(np.array([i]), np.array([k]))[0]
    assert str(cal.days[got]) == expected


@pytest.mark.parametrize(
    "day,near",
    [
        ("2026-02-10", True),  # five days before 春节
        ("2026-03-10", True),  # the backlog, 15 days after the holiday
        ("2026-04-15", False),
        ("2025-10-03", False),  # 国庆 is not 春节
    ],
)
def test_near_spring_festival(cal, day, near):
    i = cal.index(dt.date.fromisoformat(day))
    assert bool(cal.near_festival(np.array([i]))[0]) is near


def test_holidays_yaml_extends_the_calendar(tmp_path):
    from etl.demo.timeline import WorkCalendar

    (tmp_path / "holidays.yaml").write_text(
        "years: [2027]\nholidays:\n  2027-01-01: 元旦\nworkdays:\n  2027-01-09: 调休上班\n",
        encoding="utf-8",
    )
    c = WorkCalendar(dt.date(2026, 12, 28), dt.date(2027, 1, 15), tmp_path)
    work = dict(zip((str(d) for d in c.days), c.is_work, strict=False))
    assert not work["2027-01-01"] and work["2027-01-09"] and work["2026-12-31"]
    assert not work["2027-01-10"]  # an ordinary Sunday


@pytest.mark.parametrize(
    "text,label", [("2026Q4", "2026Q4"), ("2026q3", "2026Q3"), (" 2025 Q 1 ", "2025Q1")]
)
def test_parse_period(text, label):
    from etl.demo.timeline import parse_period

    assert parse_period(text).label == label


def test_hotline_tickets_are_signed_around_the_clock_within_hours(city, entries):
    """The unit's duty desk signs (签收) a ticket within hours, day or night, working day or not —
    紧急 ones faster — with a small tail signed a day or more later (按时签收率 has late ones)."""
    h = _hotline_frame(city, entries)
    fmt = "%Y/%m/%d %H:%M"
    recv = pd.to_datetime(h["来电时间"], format=fmt)
    signed = pd.to_datetime(h["签收时间"], format=fmt)
    signed_yet = signed.notna()  # a call on the cut-off's last evening is not signed yet
    assert (~signed_yet).sum() < 5
    recv, signed, urgent = (
        recv[signed_yet],
        signed[signed_yet],
        h.loc[signed_yet, "紧急程度"] == "紧急",
    )
    hours = (signed - recv).dt.total_seconds() / 3600
    assert (hours >= 0).all()
    off = ~recv.dt.date.map(chinese_calendar.is_workday)
    assert off.sum() > 100 and hours[off].median() < 6  # no waiting for the next working morning
    assert hours[urgent].median() < hours[~urgent].median()
    late = hours > 24
    assert 0.003 < late.mean() < 0.05
