"""ECharts options built in Python and handed to the page as JSON (never inline script).

A page puts `{{ chart("id", option) }}` in its template: that renders a `<div class="chart">`
with the option as JSON in its `data-chart-option` attribute; static/js/charts.js draws it. The
option may hold only JSON values: no formatter functions (the CSP forbids eval).
"""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup

PALETTE = ["#1d5fb4", "#d4380d", "#13a8a8", "#faad14", "#722ed1", "#52c41a", "#eb2f96"]

FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", system-ui, sans-serif'
# Tooltips render on the canvas: HTML tooltips carry inline styles the CSP would block.
_TOOLTIP = {"renderMode": "richText", "confine": True}


def bar_chart(
    categories: list[str], values: list[int], *, horizontal: bool = False
) -> dict[str, Any]:
    category_axis = {"type": "category", "data": categories, "axisTick": {"alignWithLabel": True}}
    value_axis = {"type": "value", "minInterval": 1}
    return {
        "color": PALETTE,
        "textStyle": {"fontFamily": FONT},
        "tooltip": {**_TOOLTIP, "trigger": "axis"},
        "grid": {"left": 8, "right": 24, "top": 16, "bottom": 8, "containLabel": True},
        "xAxis": value_axis if horizontal else category_axis,
        "yAxis": {**category_axis, "inverse": True} if horizontal else value_axis,
        "series": [{"type": "bar", "data": values, "barMaxWidth": 36}],
    }


def line_chart(categories: list[str], values: list[float | None], name: str) -> dict[str, Any]:
    return {
        "color": PALETTE[1:],
        "textStyle": {"fontFamily": FONT},
        "tooltip": {**_TOOLTIP, "trigger": "axis"},
        "grid": {"left": 8, "right": 24, "top": 16, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "category", "data": categories, "boundaryGap": False},
        "yAxis": {"type": "value"},
        "series": [{"type": "line", "name": name, "data": values, "connectNulls": True}],
    }


def pie_chart(items: list[tuple[str, int]]) -> dict[str, Any]:
    base = {
        "color": PALETTE,
        "textStyle": {"fontFamily": FONT},
        "tooltip": {**_TOOLTIP, "trigger": "item"},
        "legend": {"bottom": 0, "type": "scroll"},
        "series": [
            {
                "type": "pie",
                "radius": ["42%", "70%"],
                "center": ["50%", "45%"],
                "avoidLabelOverlap": True,
                "label": {"formatter": "{b}: {c}"},
                "data": [{"name": name, "value": value} for name, value in items],
            }
        ],
    }
    # On a narrow chart the names would be cut off: show counts in the ring, names in the legend.
    narrow = {"series": [{"label": {"position": "inside", "formatter": "{c}", "color": "#fff"}}]}
    return {"baseOption": base, "media": [{"query": {"maxWidth": 480}, "option": narrow}]}


def still(option: dict[str, Any]) -> dict[str, Any]:
    """The option without animation: for charts redrawn every few seconds by a live page."""
    return {**option, "animation": False}


def chart(element_id: str, option: dict[str, Any], label: str = "") -> Markup:
    """The markup for one chart; `label` is its accessible name. The option rides in an
    attribute (escaped by Markup), not a `<script>` block: htmx drops script elements from the
    parts it swaps in, and live pages swap charts in every few seconds."""
    return Markup(
        '<div class="chart" id="{id}" data-chart-option="{option}" role="img" '
        'aria-label="{label}"></div>'
    ).format(id=element_id, option=json.dumps(option, ensure_ascii=False), label=label)
