"""Small SVG bar charts for the reports page (no external assets, no script)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#0b57d0", "#b3261e", "#1e6b34", "#8a4b00", "#6b3fa0")


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[float | None]


def human_seconds(v: float) -> str:
    """``45s``, ``12m``, ``3.5h``, ``2.1d``."""
    if v < 60:
        return f"{v:.0f}s"
    if v < 3600:
        return f"{v / 60:.0f}m"
    if v < 86400:
        return f"{v / 3600:.1f}h".replace(".0h", "h")
    return f"{v / 86400:.1f}d".replace(".0d", "d")


def percent(v: float) -> str:
    return f"{v * 100:.0f}%"


def count(v: float) -> str:
    return f"{v:.0f}"


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Series],
              fmt: Callable[[float], str] = count, top: float | None = None,
              chart_id: str = "chart") -> str:
    """Grouped vertical bars, one group per label, one bar per series; values printed."""
    n_groups, n_series = len(labels), max(len(series), 1)
    bar_w, inner_gap, group_gap = 18, 3, 22
    group_w = n_series * bar_w + (n_series - 1) * inner_gap
    left, right, top_pad, bottom = 12, 12, 34 + 16 * (len(series) > 1), 40
    plot_h = 160
    legend_w = sum(24 + 7 * len(s.name) for s in series) if len(series) > 1 else 0
    width = max(left + right + max(n_groups, 1) * (group_w + group_gap), left + legend_w)
    height = top_pad + plot_h + bottom
    values = [v for s in series for v in s.values if v is not None]
    peak = top if top is not None else max(values, default=0.0)
    peak = peak or 1.0
    base_y = top_pad + plot_h
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"'
        f' viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' aria-labelledby="{chart_id}-title">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<line x1="{left}" y1="{base_y}" x2="{width - right}" y2="{base_y}"'
        ' stroke="#57606a" stroke-width="1"/>',
    ]
    if len(series) > 1:
        x = left
        for k, s in enumerate(series):
            out.append(f'<rect x="{x}" y="8" width="12" height="12" fill="{PALETTE[k % 5]}"/>'
                       f'<text x="{x + 16}" y="18" font-size="12" fill="#1b1f24">'
                       f"{escape(s.name)}</text>")
            x += 24 + 7 * len(s.name)
    for g, label in enumerate(labels):
        gx = left + group_gap / 2 + g * (group_w + group_gap)
        for k, s in enumerate(series):
            v = s.values[g] if g < len(s.values) else None
            bx = gx + k * (bar_w + inner_gap)
            if v is None:
                out.append(f'<text x="{bx + bar_w / 2:.1f}" y="{base_y - 4}" font-size="10"'
                           ' text-anchor="middle" fill="#57606a">–</text>')
                continue
            h = max(plot_h * min(v / peak, 1.0), 1.0)
            out.append(
                f'<rect class="bar" x="{bx:.1f}" y="{base_y - h:.1f}" width="{bar_w}"'
                f' height="{h:.1f}" fill="{PALETTE[k % 5]}"><title>{escape(label)}'
                f" {escape(s.name)}: {escape(fmt(v))}</title></rect>"
                f'<text x="{bx + bar_w / 2:.1f}" y="{base_y - h - 4:.1f}" font-size="10"'
                f' text-anchor="middle" fill="#1b1f24">{escape(fmt(v))}</text>')
        out.append(f'<text x="{gx + group_w / 2:.1f}" y="{base_y + 16}" font-size="11"'
                   f' text-anchor="middle" fill="#1b1f24">{escape(label)}</text>')
    out.append("</svg>")
    return "".join(out)
