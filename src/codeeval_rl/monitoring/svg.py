"""Small inline-SVG charts for reports: no JavaScript, no network, no plotting library.

Each function returns one ``<svg>`` element as a string (class ``chart``, a ``<title>``
for screen readers, a ``<title>`` tooltip on every mark). Every text that reaches the
SVG is escaped. Empty input gives a small "no data" figure instead of an error, so a
report of a run that has just started still renders.

The charts are styled by classes: a page that shows them puts :data:`CHART_CSS` in its
``<style>`` (without it, SVG's defaults fill the plot frame black). The rules are scoped to
``svg.chart`` and take the page's ``--fg``, ``--muted`` and ``--line`` colours when it
defines them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

__all__ = [
    "CHART_CSS",
    "PALETTE",
    "band_chart",
    "bar_chart",
    "empty_chart",
    "histogram",
    "line_chart",
    "nice_ticks",
    "stacked_bars",
]

PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#d62728", "#2ca02c", "#9467bd")

CHART_CSS = """
svg.chart{max-width:100%;height:auto;font-size:11px}
svg.chart .ct{font-weight:600;font-size:13px;fill:var(--fg,#1d2733)}svg.chart .tick{fill:#4a5561}
svg.chart .axis{fill:var(--muted,#66727f)}svg.chart .legend{fill:#333}
svg.chart .frame{fill:#fbfcfd;stroke:var(--line,#dfe4ea)}svg.chart line.gridline{stroke:#e9edf1}
svg.chart .tickmark{stroke:#9aa5b1}svg.chart .series{stroke-width:2}
svg.chart .empty{fill:var(--muted,#66727f);font-size:13px}svg.chart .value{fill:#333}
svg.chart .band-outer{fill:#c6d4e6;opacity:.7}svg.chart .band-inner{fill:#8fb0d6;opacity:.85}
svg.chart .median{stroke:#1f4e8c;stroke-width:2}svg.chart .median-dot{fill:#1f4e8c}
svg.chart .mean{stroke:#f28e2b;stroke-width:1.6;stroke-dasharray:5 3}
"""

_W, _H = 640, 260
_M = {"l": 56, "r": 16, "t": 30, "b": 40}


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering ``[lo, hi]`` (steps of 1, 2 or 5 x 10^k)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0]
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(1, n)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    v = start
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 12))
        v += step
    if ticks[-1] < hi:
        ticks.append(round(v, 12))
    return ticks


def _fmt(v: float, percent: bool = False) -> str:
    if percent:
        return f"{v * 100:.0f}%"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 10000 or a < 0.001:
        return f"{v:.1e}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 1:
        return f"{v:.3g}"
    return f"{v:.3g}"


def _open(title: str, width: int, height: int) -> list[str]:
    return [(f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'preserveAspectRatio="xMinYMin meet">'),
            f"<title>{escape(title)}</title>",
            f'<text class="ct" x="{_M["l"]}" y="18">{escape(title)}</text>']


def empty_chart(title: str, message: str = "no data yet", width: int = _W, height: int = 120) -> str:
    """A placeholder figure with ``message``."""
    parts = _open(title, width, height)
    parts.append(f'<rect class="frame" x="{_M["l"]}" y="28" width="{width - _M["l"] - _M["r"]}" '
                 f'height="{height - 40}" />')
    parts.append(f'<text class="empty" x="{width / 2:.0f}" y="{height / 2 + 10:.0f}" '
                 f'text-anchor="middle">{escape(message)}</text></svg>')
    return "".join(parts)


class _Frame:
    """Data-to-pixel mapping plus axes for x/y charts."""

    def __init__(self, x_lo: float, x_hi: float, y_lo: float, y_hi: float, width: int, height: int,
                 percent: bool, x_label: str, y_label: str, integer_x: bool = True) -> None:
        if x_hi == x_lo:
            x_lo, x_hi = x_lo - 0.5, x_hi + 0.5
        self.yt = nice_ticks(y_lo, y_hi)
        self.y_lo, self.y_hi = min(self.yt[0], y_lo), max(self.yt[-1], y_hi)
        self.x_lo, self.x_hi = x_lo, x_hi
        self.w, self.h = width, height
        self.pl, self.pr = _M["l"], width - _M["r"]
        self.pt, self.pb = _M["t"], height - _M["b"]
        self.percent, self.x_label, self.y_label, self.integer_x = percent, x_label, y_label, integer_x

    def x(self, v: float) -> float:
        return self.pl + (v - self.x_lo) / (self.x_hi - self.x_lo) * (self.pr - self.pl)

    def y(self, v: float) -> float:
        span = (self.y_hi - self.y_lo) or 1.0
        return self.pb - (v - self.y_lo) / span * (self.pb - self.pt)

    def axes(self, x_ticks: bool = True) -> str:
        out = [(f'<rect class="frame" x="{self.pl}" y="{self.pt}" width="{self.pr - self.pl}" '
               f'height="{self.pb - self.pt}" />')]
        for t in self.yt:
            yy = self.y(t)
            out.append(f'<line class="gridline" x1="{self.pl}" x2="{self.pr}" y1="{yy:.1f}" y2="{yy:.1f}" />')
            out.append(f'<text class="tick" x="{self.pl - 6}" y="{yy + 4:.1f}" text-anchor="end">'
                       f"{_fmt(t, self.percent)}</text>")
        xt = [t for t in nice_ticks(self.x_lo, self.x_hi, 6) if self.x_lo <= t <= self.x_hi] if x_ticks else []
        if self.integer_x:
            xt = sorted({round(t) for t in xt if abs(t - round(t)) < 1e-9})
        for t in xt:
            xx = self.x(t)
            out.append(f'<line class="tickmark" x1="{xx:.1f}" x2="{xx:.1f}" y1="{self.pb}" y2="{self.pb + 4}" />')
            out.append(f'<text class="tick" x="{xx:.1f}" y="{self.pb + 16}" text-anchor="middle">'
                       f"{_fmt(t)}</text>")
        out.append(f'<text class="axis" x="{(self.pl + self.pr) / 2:.0f}" y="{self.h - 6}" '
                   f'text-anchor="middle">{escape(self.x_label)}</text>')
        out.append(f'<text class="axis" transform="translate(12 {(self.pt + self.pb) / 2:.0f}) rotate(-90)" '
                   f'text-anchor="middle">{escape(self.y_label)}</text>')
        return "".join(out)


def _legend(names: Sequence[str], colours: Sequence[str], x: float, y: float, width: float) -> str:
    out, cx, cy = [], x, y
    for name, colour in zip(names, colours, strict=True):
        label = name if len(name) <= 28 else name[:27] + "…"
        w = 18 + 7 * len(label)
        if cx + w > x + width and cx > x:
            cx, cy = x, cy + 14
        out.append(f'<rect x="{cx:.0f}" y="{cy - 8:.0f}" width="10" height="10" fill="{colour}" />'
                   f'<text class="legend" x="{cx + 13:.0f}" y="{cy + 1:.0f}">{escape(label)}</text>')
        cx += w + 8
    return "".join(out)


def _legend_rows(names: Sequence[str], width: float) -> int:
    rows, cx = 1, 0.0
    for name in names:
        w = 18 + 7 * min(len(name), 28)
        if cx + w > width and cx > 0:
            rows, cx = rows + 1, 0.0
        cx += w + 8
    return rows


def line_chart(series: Mapping[str, Sequence[tuple[float, float]]], *, title: str, x_label: str = "step",
               y_label: str = "", percent: bool = False, y_range: tuple[float, float] | None = None,
               width: int = _W, height: int = _H) -> str:
    """One line per series (points sorted by x; NaN values break the line)."""
    pts = {k: sorted((float(x), float(y)) for x, y in v) for k, v in series.items() if v}
    finite = [(x, y) for v in pts.values() for x, y in v if math.isfinite(y)]
    if not finite:
        return empty_chart(title)
    names = list(pts)
    rows = _legend_rows(names, width - _M["l"] - _M["r"]) if len(names) > 1 else 0
    h = height + 14 * rows + (8 if rows else 0)
    xs = [x for x, _ in finite]
    ys = [y for _, y in finite]
    y_lo, y_hi = y_range if y_range else (min(ys), max(ys))
    fr = _Frame(min(xs), max(xs), y_lo, y_hi, width, height, percent, x_label, y_label)
    parts = _open(title, width, h)
    parts.append(fr.axes())
    for i, name in enumerate(names):
        colour = PALETTE[i % len(PALETTE)]
        segs, cur = [], []
        for x, y in pts[name]:
            if math.isfinite(y):
                cur.append(f"{fr.x(x):.1f},{fr.y(y):.1f}")
            elif cur:
                segs.append(cur)
                cur = []
        if cur:
            segs.append(cur)
        for seg in segs:
            if len(seg) > 1:
                parts.append(f'<polyline class="series" fill="none" stroke="{colour}" points="{" ".join(seg)}" />')
        if len(pts[name]) <= 80:
            for x, y in pts[name]:
                if math.isfinite(y):
                    parts.append(f'<circle cx="{fr.x(x):.1f}" cy="{fr.y(y):.1f}" r="2.6" fill="{colour}">'
                                 f"<title>{escape(name)} @ {_fmt(x)}: {_fmt(y, percent)}</title></circle>")
    if rows:
        parts.append(_legend(names, [PALETTE[i % len(PALETTE)] for i in range(len(names))],
                             _M["l"], height + 12, width - _M["l"] - _M["r"]))
    parts.append("</svg>")
    return "".join(parts)


def band_chart(points: Sequence[tuple[float, float, float, float, float, float, float]], *, title: str,
               x_label: str = "step", y_label: str = "reward", width: int = _W, height: int = _H) -> str:
    """A distribution over x: ``(x, min, q1, median, q3, max, mean)`` per point, drawn as a
    light min-max band, a darker interquartile band, the median line and the mean dashed."""
    pts = sorted(p for p in points if all(math.isfinite(v) for v in p))
    if not pts:
        return empty_chart(title)
    h = height + 20
    fr = _Frame(pts[0][0], pts[-1][0], min(p[1] for p in pts), max(p[5] for p in pts), width, height,
                False, x_label, y_label)
    parts = _open(title, width, h)
    parts.append(fr.axes())

    def band(lo_i: int, hi_i: int, cls: str) -> str:
        top = [f"{fr.x(p[0]):.1f},{fr.y(p[hi_i]):.1f}" for p in pts]
        bottom = [f"{fr.x(p[0]):.1f},{fr.y(p[lo_i]):.1f}" for p in reversed(pts)]
        if len(pts) == 1:  # a single step: a short horizontal box
            x0, x1 = fr.x(pts[0][0]) - 12, fr.x(pts[0][0]) + 12
            return (f'<rect class="{cls}" x="{x0:.1f}" y="{fr.y(pts[0][hi_i]):.1f}" width="{x1 - x0:.1f}" '
                    f'height="{max(1.0, fr.y(pts[0][lo_i]) - fr.y(pts[0][hi_i])):.1f}" />')
        return f'<polygon class="{cls}" points="{" ".join(top + bottom)}" />'

    parts.append(band(1, 5, "band-outer"))
    parts.append(band(2, 4, "band-inner"))
    for idx, cls in ((3, "median"), (6, "mean")):
        line = " ".join(f"{fr.x(p[0]):.1f},{fr.y(p[idx]):.1f}" for p in pts)
        if len(pts) > 1:
            parts.append(f'<polyline class="{cls}" fill="none" points="{line}" />')
    for p in pts if len(pts) <= 120 else []:
        parts.append(f'<circle cx="{fr.x(p[0]):.1f}" cy="{fr.y(p[3]):.1f}" r="2.2" class="median-dot">'
                     f"<title>step {_fmt(p[0])}: median {_fmt(p[3])}, mean {_fmt(p[6])}, "
                     f"IQR {_fmt(p[2])} to {_fmt(p[4])}, range {_fmt(p[1])} to {_fmt(p[5])}</title></circle>")
    parts.append(_legend(["min-max", "interquartile", "median", "mean"],
                         ["#c6d4e6", "#8fb0d6", "#1f4e8c", "#f28e2b"], _M["l"], h - 4, width))
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(items: Sequence[tuple[str, float, str]], *, title: str, percent: bool = True,
              width: int = _W, max_bars: int = 30, colour: str = PALETTE[0]) -> str:
    """Horizontal bars ``(label, value, note)``; ``note`` (e.g. ``n=40``) is printed after
    the value. At most ``max_bars`` bars, in the order given."""
    items = [(lab, v, note) for lab, v, note in items if math.isfinite(v)][:max_bars]
    if not items:
        return empty_chart(title)
    bar_h, gap = 18, 6
    label_w = min(180, 12 + 7 * max(len(lab) for lab, _, _ in items))
    height = _M["t"] + len(items) * (bar_h + gap) + 14
    lo = min(0.0, min(v for _, v, _ in items))
    hi = max(v for _, v, _ in items)
    if percent:
        lo, hi = min(lo, 0.0), max(hi, 1.0)
    hi = hi if hi > lo else lo + 1.0
    x0, x1 = label_w, width - 120
    parts = _open(title, width, height)

    def px(v: float) -> float:
        return x0 + (v - lo) / (hi - lo) * (x1 - x0)

    parts.append(f'<line class="gridline" x1="{px(0):.1f}" x2="{px(0):.1f}" y1="{_M["t"] - 4}" y2="{height - 10}" />')
    for i, (lab, v, note) in enumerate(items):
        y = _M["t"] + i * (bar_h + gap)
        a, b = sorted((px(0), px(v)))
        short = lab if len(lab) <= 24 else lab[:23] + "…"
        parts.append(f'<text class="tick" x="{label_w - 6}" y="{y + 13}" text-anchor="end">{escape(short)}</text>')
        parts.append(f'<rect class="bar" x="{a:.1f}" y="{y}" width="{max(1.0, b - a):.1f}" height="{bar_h}" '
                     f'fill="{colour}"><title>{escape(lab)}: {_fmt(v, percent)} {escape(note)}</title></rect>')
        parts.append(f'<text class="value" x="{max(a, b) + 6:.1f}" y="{y + 13}">{_fmt(v, percent)}'
                     f'{(" · " + escape(note)) if note else ""}</text>')
    parts.append("</svg>")
    return "".join(parts)


def stacked_bars(labels: Sequence[str], series: Mapping[str, Sequence[float]], *, title: str,
                 normalise: bool = True, x_label: str = "step", width: int = _W, height: int = _H,
                 colours: Mapping[str, str] | None = None) -> str:
    """One stacked bar per label; ``series`` maps a layer name to one value per label.
    ``normalise`` scales each bar to 100% (a mix, not a count); empty bars stay empty."""
    names = [k for k, v in series.items() if any(x > 0 for x in v)]
    if not labels or not names:
        return empty_chart(title, "no failures")
    totals = [sum(series[k][i] for k in names) for i in range(len(labels))]
    top = 1.0 if normalise else max(totals) or 1.0
    rows = _legend_rows(names, width - _M["l"] - _M["r"])
    h = height + 14 * rows + 8
    fr = _Frame(0, len(labels), 0.0, top, width, height, normalise, x_label,
                "share of failures" if normalise else "failures")
    parts = _open(title, width, h)
    parts.append(fr.axes(x_ticks=False))  # the bars carry their own bucket labels
    bw = (fr.pr - fr.pl) / len(labels)
    every = max(1, math.ceil(len(labels) / 12))
    pal = {k: (colours or {}).get(k, PALETTE[i % len(PALETTE)]) for i, k in enumerate(names)}
    for i, lab in enumerate(labels):
        base = 0.0
        total = totals[i]
        for k in names:
            v = series[k][i]
            if v <= 0 or total <= 0:
                continue
            share = v / total if normalise else v
            y_top, y_bot = fr.y(base + share), fr.y(base)
            parts.append(f'<rect x="{fr.pl + i * bw + 1:.1f}" y="{y_top:.1f}" width="{max(1.0, bw - 2):.1f}" '
                         f'height="{max(0.5, y_bot - y_top):.1f}" fill="{pal[k]}"><title>{escape(x_label)} '
                         f"{escape(lab)}: {escape(k)} {v:g} of {total:g}</title></rect>")
            base += share
        if i % every == 0:
            parts.append(f'<text class="tick" x="{fr.pl + (i + 0.5) * bw:.1f}" y="{fr.pb + 16}" '
                         f'text-anchor="middle">{escape(lab)}</text>')
    parts.append(_legend(names, [pal[k] for k in names], _M["l"], height + 12, width - _M["l"] - _M["r"]))
    parts.append("</svg>")
    return "".join(parts)


def histogram(values: Sequence[float], *, title: str, bins: int = 20, x_label: str = "reward",
              width: int = _W, height: int = _H) -> str:
    """Counts of finite ``values`` in ``bins`` equal-width bins."""
    vals = [v for v in values if math.isfinite(v)]
    if not vals:
        return empty_chart(title)
    lo, hi = min(vals), max(vals)
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    width_bin = (hi - lo) / bins
    counts = [0] * bins
    for v in vals:
        counts[min(bins - 1, int((v - lo) / width_bin))] += 1
    fr = _Frame(lo, hi, 0.0, max(counts), width, height, False, x_label, "rollouts", integer_x=False)
    parts = _open(title, width, height)
    parts.append(fr.axes())
    for i, c in enumerate(counts):
        if not c:
            continue
        a, b = fr.x(lo + i * width_bin), fr.x(lo + (i + 1) * width_bin)
        parts.append(f'<rect class="bar" x="{a + 0.5:.1f}" y="{fr.y(c):.1f}" width="{max(1.0, b - a - 1):.1f}" '
                     f'height="{fr.y(0) - fr.y(c):.1f}" fill="{PALETTE[0]}"><title>{_fmt(lo + i * width_bin)} '
                     f"to {_fmt(lo + (i + 1) * width_bin)}: {c}</title></rect>")
    parts.append("</svg>")
    return "".join(parts)
