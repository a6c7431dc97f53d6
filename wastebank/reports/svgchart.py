"""Small server-rendered SVG charts for dashboards (no JavaScript, no CDN).

Pure functions: labels and values in, an SVG string out (safe to embed: every text is
escaped). Values are plain numbers already in display units (kg, count); ``None`` is a gap
(e.g. a month suppressed for privacy).
"""
from __future__ import annotations

from xml.sax.saxutils import escape

WIDTH, HEIGHT = 640, 260
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 56, 12, 16, 48


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _frame(title: str, top: float, fmt) -> list[str]:
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(title, {chr(34): "&quot;"})}" class="chart">',
             f"<title>{escape(title)}</title>"]
    for i in range(5):
        y = PAD_TOP + plot_h * i / 4
        parts.append(f'<line x1="{PAD_LEFT}" y1="{y:.1f}" x2="{WIDTH - PAD_RIGHT}" y2="{y:.1f}" '
                     f'stroke="#ddd" stroke-width="1"/>')
        parts.append(f'<text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
                     f'fill="#555">{escape(fmt(top * (4 - i) / 4))}</text>')
    return parts


def _labels(labels: list[str], xs: list[float]) -> list[str]:
    out = []
    step = max(1, len(labels) // 12)
    for i, (label, x) in enumerate(zip(labels, xs)):
        if i % step == 0:
            out.append(f'<text x="{x:.1f}" y="{HEIGHT - PAD_BOTTOM + 16}" font-size="11" text-anchor="middle" '
                       f'fill="#333">{escape(label)}</text>')
    return out


def bar_chart(title: str, labels: list[str], values: list[float | None], fmt=lambda v: f"{v:,.0f}",
              colour: str = "#2e7d32") -> str:
    """Vertical bars, one per label."""
    top = _nice_max(max([v for v in values if v is not None] or [0]))
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_w / max(1, len(values))
    parts = _frame(title, top, fmt)
    xs = []
    for i, value in enumerate(values):
        x = PAD_LEFT + slot * i + slot * 0.15
        xs.append(x + slot * 0.35)
        if value is None or value <= 0:
            continue
        h = plot_h * value / top
        parts.append(f'<rect x="{x:.1f}" y="{PAD_TOP + plot_h - h:.1f}" width="{slot * 0.7:.1f}" '
                     f'height="{h:.1f}" fill="{colour}"><title>{escape(labels[i])}: {escape(fmt(value))}'
                     f"</title></rect>")
    parts += _labels(labels, xs)
    parts.append("</svg>")
    return "".join(parts)


def line_chart(title: str, labels: list[str], values: list[float | None], fmt=lambda v: f"{v:,.0f}",
               colour: str = "#1565c0") -> str:
    """A line through the points; ``None`` breaks the line."""
    top = _nice_max(max([v for v in values if v is not None] or [0]))
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_w / max(1, len(values))
    parts = _frame(title, top, fmt)
    xs, segment, segments = [], [], []
    for i, value in enumerate(values):
        x = PAD_LEFT + slot * (i + 0.5)
        xs.append(x)
        if value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        y = PAD_TOP + plot_h - plot_h * value / top
        segment.append((x, y))
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{escape(labels[i])}: '
                     f"{escape(fmt(value))}</title></circle>")
    if segment:
        segments.append(segment)
    for seg in segments:
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in seg)
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
    parts += _labels(labels, xs)
    parts.append("</svg>")
    return "".join(parts)
