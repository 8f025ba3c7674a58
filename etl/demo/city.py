"""The demo city: its districts, how big and how good each one is, and how that changes.

Every metric-relevant draw in the generators is driven by one number per district and quarter,
`performance` in [0, 1] (1 = best practice). The six Quzhou districts get fixed characters so the
dashboard tells a story a reviewer can check: 柯城区 consistently good, 江山市 mid-table, 衢江区
improving every quarter, 开化县 sliding every quarter. Synthetic districts (`--districts N` > 6)
get seeded random characters.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# code → (volume share, base performance, change per quarter)
_CHARACTER = {
    "330802": (0.26, 0.86, 0.004),  # 柯城区: the city core, consistently good
    "330803": (0.15, 0.50, 0.085),  # 衢江区: improves quarter after quarter
    "330822": (0.12, 0.62, 0.0),  # 常山县
    "330824": (0.11, 0.52, -0.085),  # 开化县: slides quarter after quarter
    "330825": (0.14, 0.68, 0.01),  # 龙游县
    "330881": (0.22, 0.55, 0.0),  # 江山市: mid-table
}

# Syllables for synthetic district names; none of the resulting names is a Quzhou district.
_FIRST = "东西南北新青安平永长兴和华宁泰丰"
_SECOND = "阳山江湖川林源溪岭泉城原桥港塘亭"
_SUFFIX = "县区市"
SYNTHETIC_CODE_BASE = 339000  # 3390xx is not a real prefecture code in Zhejiang (3301–3311)


@dataclass(frozen=True)
class District:
    code: str
    name: str
    short: str
    share: float  # relative volume
    base: float  # performance in the middle of the window
    slope: float  # change of performance per quarter
    synthetic: bool = False


def _catalogue_rows(catalog_dir: Path) -> list[dict]:
    with open(catalog_dir / "districts.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def city_of(catalog_dir: Path) -> tuple[str, str]:
    """(code, name) of the catalogue's city row."""
    for row in _catalogue_rows(catalog_dir):
        if row.get("level") == "city":
            return row["district_code"], row["district_name"]
    return "330800", "衢州市"


def districts(n: int, catalog_dir: Path, seed: int) -> list[District]:
    """The first n catalogue districts, then synthetic ones up to n."""
    rows = [r for r in _catalogue_rows(catalog_dir) if r.get("level") != "city"]
    rows.sort(key=lambda r: int(r.get("sort_order") or 0))
    rng = np.random.default_rng([seed, 7])
    out: list[District] = []
    for r in rows[:n]:
        share, base, slope = _CHARACTER.get(
            r["district_code"],
            (rng.uniform(0.08, 0.2), rng.uniform(0.45, 0.85), rng.uniform(-0.02, 0.02)),
        )
        out.append(
            District(
                r["district_code"],
                r["district_name"],
                r.get("short_name") or r["district_name"][:-1],
                share,
                base,
                slope,
            )
        )
    taken_names = {r["district_name"] for r in rows} | {r.get("short_name") for r in rows}
    taken_codes = {r["district_code"] for r in rows}
    i = 0
    while len(out) < n:
        i += 1
        if i > 16 * 16 * len(_SUFFIX):
            raise ValueError("合成区县最多 768 个")
        a, b = _FIRST[(i - 1) % 16], _SECOND[((i - 1) // 16) % 16]
        name = a + b + _SUFFIX[((i - 1) // 256) % len(_SUFFIX)]
        # the short form (东阳) is only unique within the first 256; later ones go by full name
        short = a + b if i <= 256 else name
        code = str(SYNTHETIC_CODE_BASE + i)
        if code in taken_codes or short in taken_names or name in taken_names:
            continue
        out.append(
            District(
                code,
                name,
                short,
                float(rng.uniform(0.05, 0.2)),
                float(rng.uniform(0.4, 0.85)),
                float(rng.uniform(-0.03, 0.03)),
                True,
            )
        )
    return out


def performance(ds: list[District], n_quarters: int, seed: int) -> np.ndarray:
    """[district, quarter] performance in [0.02, 0.98]: base + trend + a small seeded wobble."""
    rng = np.random.default_rng([seed, 11])
    base = np.array([d.base for d in ds])[:, None]
    slope = np.array([d.slope for d in ds])[:, None]
    # quarters counted back from the last one, which always sits 4.5 quarters past the middle of
    # a 10-quarter story: the latest quarter looks the same whatever --quarters is; quarters
    # before the story's start stay at its opening level
    t = np.clip(np.arange(n_quarters)[None, :] - (n_quarters - 1) + 4.5, -4.5, 4.5)
    wobble = rng.normal(0, 0.015, (len(ds), n_quarters))
    return np.clip(base + slope * t + wobble, 0.02, 0.98)


def write_catalogue(out_dir: Path, catalog_dir: Path, ds: list[District]) -> list[Path]:
    """Copy the catalogue to out_dir/catalog with the synthetic districts added to districts.csv."""
    target = out_dir / "catalog"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for src in sorted(catalog_dir.iterdir()):
        if src.is_file() and src.name != "districts.csv":
            shutil.copyfile(src, target / src.name)
            written.append(target / src.name)
    rows = _catalogue_rows(catalog_dir)
    fields = list(rows[0].keys())
    next_order = max(int(r.get("sort_order") or 0) for r in rows) + 1
    for k, d in enumerate(x for x in ds if x.synthetic):
        rows.append(
            {
                **{f: "" for f in fields},
                "district_code": d.code,
                "district_name": d.name,
                "short_name": d.short,
                "level": "district",
                "sort_order": str(next_order + k),
                "aliases": "|".join(dict.fromkeys([d.short, d.name])),
            }
        )
    with open(target / "districts.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    written.append(target / "districts.csv")
    return sorted(written)
