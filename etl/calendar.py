"""The working-day calendar: chinese-calendar (2004–2026) extended by data/catalog/holidays.yaml.

Built as a table (`calendar`) with a running `workday_seq`, so working days between two dates are
one join and a subtraction in SQL: workdays from the day after a to b inclusive = seq(b) − seq(a).
Years neither source knows are still in the table, counted weekdays-only with known = false, so a
record from such a year loads and is flagged instead of being dropped.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import yaml

from kpi.errors import UserInputError

FIRST_YEAR = 1990
LAST_YEAR = 2060

# chinese-calendar names its holidays in English.
HOLIDAY_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _library_days() -> tuple[set[int], dict[dt.date, str], dict[dt.date, str]]:
    from chinese_calendar import constants

    years = {d.year for d in constants.holidays}
    years = set(range(min(years), max(years) + 1))
    off = {d: HOLIDAY_ZH.get(n, n) for d, n in constants.holidays.items()}
    on = {d: f"{HOLIDAY_ZH.get(n, n)}调休上班" for d, n in constants.workdays.items()}
    return years, off, on


def _yaml_days(path: Path) -> tuple[set[int], dict[dt.date, str], dict[dt.date, str]]:
    if not path.exists():
        return set(), {}, {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise UserInputError(
            f"{path}：不是有效的 YAML（{err}）。格式见该文件开头的说明。"
        ) from None

    def days(key: str) -> dict[dt.date, str]:
        out = {}
        for raw, name in (data.get(key) or {}).items():
            try:
                day = raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
            except ValueError:
                raise UserInputError(
                    f"{path}：{key} 下的日期 {raw!r} 无法识别，请写成 2027-01-01 的形式。"
                ) from None
            out[day] = str(name or "")
        return out

    try:
        years = {int(y) for y in data.get("years") or []}
    except (TypeError, ValueError):
        raise UserInputError(f"{path}：years 应为年份列表，例如 years: [2027]。") from None
    return years, days("holidays"), days("workdays")


def calendar_table(holidays_yaml: Path) -> pa.Table:
    """Every day FIRST_YEAR–LAST_YEAR: is_workday, known, holiday_name (workday_seq added in SQL)."""
    lib_years, lib_off, lib_on = _library_days()
    own_years, own_off, own_on = _yaml_days(holidays_yaml)
    off = {**lib_off, **own_off}
    on = {**lib_on, **own_on}
    for d in own_off:
        on.pop(d, None)
    known_years = lib_years | own_years
    start, end = dt.date(FIRST_YEAR, 1, 1), dt.date(LAST_YEAR, 12, 31)
    days = [start + dt.timedelta(n) for n in range((end - start).days + 1)]
    is_workday = [(d in on) or (d.weekday() < 5 and d not in off) for d in days]
    names = [off.get(d) or on.get(d) for d in days]
    known = [d.year in known_years for d in days]
    return pa.table({"day": days, "is_workday": is_workday, "known": known, "holiday_name": names})


CALENDAR_SELECT = """
SELECT day, is_workday, known, holiday_name,
       CAST(sum(CAST(is_workday AS INTEGER)) OVER (ORDER BY day) AS INTEGER) AS workday_seq
FROM {src}"""
