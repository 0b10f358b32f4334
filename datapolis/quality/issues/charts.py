"""ECharts options of the governance dashboard that web/charts.py does not have: a score gauge,
score bars on a fixed 0–100 axis, and paired percentage bars (plain JSON, no formatters)."""

from __future__ import annotations

from typing import Any

from datapolis.web.charts import FONT, PALETTE, bar_chart

_TOOLTIP = {"renderMode": "richText", "confine": True}


def gauge_chart(score: float, name: str) -> dict[str, Any]:
    # Red below 60, amber below 85, green above: the bureau's usual pass marks.
    bands = [[0.6, "#d4380d"], [0.85, "#faad14"], [1, "#52c41a"]]
    return {
        "textStyle": {"fontFamily": FONT},
        "series": [{
            "type": "gauge", "min": 0, "max": 100, "name": name,
            "axisLine": {"lineStyle": {"width": 14, "color": bands}},
            "pointer": {"width": 5}, "detail": {"valueAnimation": False, "fontSize": 28},
            "data": [{"value": score, "name": name}],
        }],
    }


def score_bars(names: list[str], values: list[float | None], *, horizontal: bool = False
               ) -> dict[str, Any]:
    option = bar_chart(names, values, horizontal=horizontal)  # type: ignore[arg-type]
    axis = "xAxis" if horizontal else "yAxis"
    option[axis] = {"type": "value", "min": 0, "max": 100}
    return option


def percent_bars(names: list[str], first: list[float | None], second: list[float | None],
                 first_name: str, second_name: str) -> dict[str, Any]:
    return {
        "color": PALETTE,
        "textStyle": {"fontFamily": FONT},
        "tooltip": {**_TOOLTIP, "trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 8, "right": 24, "top": 16, "bottom": 32, "containLabel": True},
        "xAxis": {"type": "category", "data": names, "axisLabel": {"interval": 0, "rotate": 30}},
        "yAxis": {"type": "value", "min": 0, "max": 100},
        "series": [{"type": "bar", "name": first_name, "data": first, "barMaxWidth": 28},
                   {"type": "bar", "name": second_name, "data": second, "barMaxWidth": 28}],
    }
