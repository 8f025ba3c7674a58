"""Timestamp parsing in DuckDB SQL: the formats Chinese government systems emit.

One expression per column, evaluated by DuckDB over the whole file (no Python per row):
a time with a zone (`2026-07-10T01:30:58Z`, `…+08:00`, Burlington's `…+00`) is converted to
Beijing time, the zone of every other timestamp in bizenv; Excel serial numbers (46204.378) are
converted, and the text is tried against a list of strptime formats (GB/T 39046's
`20260702T110307` and `2026072412:39:18` among them). The "no date" placeholders `1753-01-01` and
`0000-00-00` read as empty (placeholder_sql). US month-first formats are ambiguous with day-first ones, so they are never
built in: a profile lists them under `date_formats` when its export uses them.
"""

from __future__ import annotations

# Most common first: try_strptime stops at the first format that fits.
BUILTIN_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y/%m/%d %H:%M:%S.%f",
    "%Y年%m月%d日 %H时%M分%S秒",
    "%Y年%m月%d日 %H时%M分",
    "%Y年%m月%d日%H时%M分",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
    "%Y%m%d%H%M%S",
    "%Y%m%dT%H%M%S",  # GB/T 39046 writes both of these two
    "%Y%m%d%H:%M:%S",
    "%Y%m%d",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d",
)

# Excel serial days 20000–80000 are the years 1954–2119; outside that a 5-digit number is not a date.
_SERIAL = r"^[2-7]\d{4}(\.\d+)?$"
_BLANKS = " \t\r\n\u3000\u00a0"
_TZ_SUFFIX = r"(\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)\s*(Z|[+-]\d{2}(:?\d{2})?)$"
BEIJING_OFFSET_MINUTES = 8 * 60
# "No date" as source systems write it: SQL Server's smallest datetime (1753-01-01, the 宁波
# 办件库 interface) and MySQL's zero date. Such a cell is empty, not a bad time.
PLACEHOLDER_PREFIXES = ("1753-01-01", "0000-00-00", "0000/00/00", "00000000")


def placeholder_sql(text_sql: str) -> str:
    """SQL: the text is a "no date" placeholder (PLACEHOLDER_PREFIXES), with or without a time."""
    return "(" + " OR ".join(f"prefix({text_sql}, '{p}')" for p in PLACEHOLDER_PREFIXES) + ")"


def _zone_shift_sql(text_sql: str) -> str:
    """Minutes to add to the zone-less time so it reads in Beijing time (0 without a zone)."""
    zone = f"regexp_extract({text_sql}, '{_TZ_SUFFIX}', 4)"
    sign = f"CASE WHEN starts_with({zone}, '-') THEN -1 ELSE 1 END"
    hours = f"TRY_CAST(substr({zone}, 2, 2) AS INTEGER)"
    minutes = f"coalesce(TRY_CAST(right(replace({zone}, ':', ''), 2) AS INTEGER), 0)"
    offset = (
        f"CASE WHEN {zone} = 'Z' THEN 0 "
        f"WHEN length(replace({zone}, ':', '')) = 5 THEN {sign} * ({hours} * 60 + {minutes}) "
        f"ELSE {sign} * {hours} * 60 END"
    )
    return f"CASE WHEN {zone} = '' THEN 0 ELSE {BEIJING_OFFSET_MINUTES} - ({offset}) END"


def timestamp_sql(text_sql: str, formats_param: str, convert_zone: bool = True) -> str:
    """SQL turning the text expression `text_sql` into a TIMESTAMP (NULL when it cannot be read).

    `formats_param` names a bound VARCHAR[] parameter holding the format list (see formats());
    `convert_zone`: a zone suffix moves the time to Beijing time (else it is only dropped).
    """
    cleaned = f"regexp_replace(trim({text_sql}, '{_BLANKS}'), '{_TZ_SUFFIX}', '\\1')"
    serial = (
        f"TIMESTAMP '1899-12-30' + to_microseconds(CAST(round(CAST({text_sql} AS DOUBLE) * 86400) AS BIGINT)"
        " * 1000000)"
    )
    # Cheap tests first: most cells are 16–19 characters and parse with the first format; the
    # regular expressions run only on what is left (serial numbers are short; zone suffixes and
    # stray tabs or full-width spaces around the text are rare and retried trimmed).
    trimmed = f"trim({text_sql}, '{_BLANKS}')"
    zoned = f"try_strptime({cleaned}, {formats_param})"
    if convert_zone:
        zoned += f" + to_minutes(CAST({_zone_shift_sql(trimmed)} AS BIGINT))"
    return (
        f"CASE WHEN {text_sql} IS NULL OR {placeholder_sql(text_sql)} THEN NULL "
        f"WHEN length({text_sql}) < 16 AND regexp_matches({text_sql}, '{_SERIAL}') THEN {serial} "
        f"ELSE coalesce(try_strptime({text_sql}, {formats_param}), {zoned}) END"
    )


def formats(extra: tuple[str, ...] = ()) -> list[str]:
    """The profile's own formats first, then the built-in list."""
    return list(extra) + [f for f in BUILTIN_FORMATS if f not in extra]
