"""ECharts options of the monitoring pages that web/charts.py does not have: stacked call
volume, the Sankey of data flows, latency percentile bars (plain JSON, no formatters)."""

from __future__ import annotations

from typing import Any

from datapolis.web.charts import FONT, PALETTE

_TOOLTIP = {"renderMode": "richText", "confine": True}


def volume_chart(labels: list[str], series: list[tuple[str, list[int]]]) -> dict[str, Any]:
    return {
        "color": [PALETTE[0], PALETTE[3], PALETTE[1]],
        "textStyle": {"fontFamily": FONT},
        "tooltip": {**_TOOLTIP, "trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 8, "right": 24, "top": 16, "bottom": 32, "containLabel": True},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [{"type": "bar", "stack": "calls", "name": name, "data": values,
                    "barMaxWidth": 28} for name, values in series],
    }


def sankey_chart(links: list[tuple[str, str, int]]) -> dict[str, Any]:
    """Links (source, target, value) between node names; each side's names must differ (the
    caller suffixes them), because a Sankey may not loop."""
    links = [(s, t, v) for s, t, v in links if v > 0]
    names = sorted({n for s, t, _ in links for n in (s, t)})
    return {
        "color": PALETTE,
        "textStyle": {"fontFamily": FONT},
        "tooltip": {**_TOOLTIP, "trigger": "item"},
        "series": [{
            "type": "sankey", "left": 8, "right": 140, "top": 8, "bottom": 8,
            "emphasis": {"focus": "adjacency"}, "nodeAlign": "justify",
            "lineStyle": {"color": "gradient", "curveness": 0.5, "opacity": 0.4},
            "data": [{"name": n} for n in names],
            "links": [{"source": s, "target": t, "value": v} for s, t, v in links],
        }],
    }


def latency_chart(labels: list[str], p50: list[float | None], p95: list[float | None],
                  p99: list[float | None]) -> dict[str, Any]:
    return {
        "color": [PALETTE[2], PALETTE[3], PALETTE[1]],
        "textStyle": {"fontFamily": FONT},
        "tooltip": {**_TOOLTIP, "trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 8, "right": 24, "top": 16, "bottom": 32, "containLabel": True},
        "xAxis": {"type": "value", "name": "ms"},
        "yAxis": {"type": "category", "data": labels, "inverse": True},
        "series": [{"type": "bar", "name": name, "data": values, "barMaxWidth": 10}
                   for name, values in (("p50", p50), ("p95", p95), ("p99", p99))],
    }
