"""The 挂图作战 map's per-district 督办 counts (kpi.led.loop._map_counts), counted by hand."""

import pandas as pd

from kpi.led import loop


def test_open_problems_and_open_tasks_per_district():
    problems = pd.DataFrame(
        {
            "区县代码": ["330802", "330802", "330802", "330803", "330803"],
            "状态": ["整改中", "已解决", "待交办", "已销号", "解释说明"],
        }
    )
    tasks = pd.DataFrame(
        {
            "区县代码": ["330802", "330803", "330803", "330824"],
            "状态": ["督办中", "待确认", "不督办", "已销号"],
        }
    )
    got = loop._map_counts(problems, tasks).set_index("district_code").sort_index()
    # 330802: 整改中 + 待交办 open, one 督办中; 330803: nothing open, one 待确认; 330824: none open
    assert got.to_dict("index") == {
        "330802": {"problems_open": 2, "tasks_open": 1},
        "330803": {"problems_open": 0, "tasks_open": 1},
    }


def test_no_items_no_counts():
    empty = pd.DataFrame(columns=["区县代码", "状态"])
    assert loop._map_counts(empty, empty) is None
