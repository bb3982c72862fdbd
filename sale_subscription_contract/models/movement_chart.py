# The MRR movements per period as a bar chart for the printed KPI report:
# an SVG drawn here (no charting library on the server), embedded in the
# ODT as an image. The gains (new, expansion, reactivation) are stacked
# above the zero line, the losses (contraction, churn) below it, and the net
# new MRR of each period is a dot on a line.
import math
from decimal import Decimal
from xml.sax.saxutils import escape

GAINS = ['new', 'expansion', 'reactivation']
LOSSES = ['contraction', 'churn']
COLORS = {
    'new': '#2e7d32',
    'expansion': '#81c784',
    'reactivation': '#26a69a',
    'contraction': '#ffb74d',
    'churn': '#e53935',
    'net_new': '#1a237e',
    }
# the drawing's units: 40 per cm of the 26 cm × 8 cm frame of the report
WIDTH, HEIGHT = 1040, 320
LEFT, RIGHT, TOP, BOTTOM = 90, 20, 40, 40
FONT = 'font-family="Liberation Sans, Arial, sans-serif"'


def nice_step(span, ticks=4):
    "A round step (1, 2 or 5 × 10^n) that cuts span in about ticks parts"
    if span <= 0:
        return 1
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def movement_chart(periods, labels, format_amount):
    """The SVG (bytes) of periods: [(period label, {kind: amount})], kinds
    GAINS, LOSSES and 'net_new'; labels: {kind: legend text};
    format_amount: the text of an axis' amount"""
    tops = [sum(float(p[k] or 0) for k in GAINS) for _, p in periods]
    bottoms = [-sum(float(p[k] or 0) for k in LOSSES) for _, p in periods]
    nets = [float(p['net_new'] or 0) for _, p in periods]
    step = nice_step(max(tops + nets + [0]) - min(bottoms + nets + [0]))
    high = math.ceil(max(tops + nets + [0]) / step) * step or step
    low = math.floor(min(bottoms + nets + [0]) / step) * step
    plot_height = HEIGHT - TOP - BOTTOM
    plot_width = WIDTH - LEFT - RIGHT

    def y(value):
        return TOP + (high - value) / (high - low) * plot_height

    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="26cm" '
        f'height="8cm" viewBox="0 0 {WIDTH} {HEIGHT}">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>']
    # the amounts' grid
    ticks = int(round((high - low) / step))
    for i in range(ticks + 1):
        value = low + i * step
        colour = '#616161' if value == 0 else '#e0e0e0'
        parts.append(f'<line x1="{LEFT}" y1="{y(value):.1f}" '
            f'x2="{WIDTH - RIGHT}" y2="{y(value):.1f}" stroke="{colour}"/>')
        parts.append(f'<text x="{LEFT - 8}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end" font-size="13" {FONT}>'
            f'{escape(format_amount(Decimal(str(value))))}</text>')
    slot = plot_width / max(len(periods), 1)
    bar = min(slot * 0.6, 60)
    centres = []
    for i, (label, period) in enumerate(periods):
        centre = LEFT + slot * (i + 0.5)
        centres.append(centre)
        for kinds, sign in [(GAINS, 1), (LOSSES, -1)]:
            base = 0.0
            for kind in kinds:
                amount = sign * float(period[kind] or 0)
                if not amount:
                    continue
                top, bottom = sorted([y(base), y(base + amount)])
                parts.append(f'<rect x="{centre - bar / 2:.1f}" '
                    f'y="{top:.1f}" width="{bar:.1f}" '
                    f'height="{bottom - top:.1f}" fill="{COLORS[kind]}"/>')
                base += amount
        parts.append(f'<text x="{centre:.1f}" y="{HEIGHT - BOTTOM + 18}" '
            f'text-anchor="middle" font-size="13" {FONT}>'
            f'{escape(label)}</text>')
    # the net new MRR of each period
    points = ' '.join(f'{x:.1f},{y(n):.1f}' for x, n in zip(centres, nets))
    parts.append(f'<polyline points="{points}" fill="none" '
        f'stroke="{COLORS["net_new"]}" stroke-width="2"/>')
    for x, n in zip(centres, nets):
        parts.append(f'<circle cx="{x:.1f}" cy="{y(n):.1f}" r="4" '
            f'fill="{COLORS["net_new"]}"/>')
    # the legend, above the plot
    x = LEFT
    for kind in GAINS + LOSSES + ['net_new']:
        text = escape(labels[kind])
        parts.append(f'<rect x="{x}" y="12" width="14" height="14" '
            f'fill="{COLORS[kind]}"/>')
        parts.append(f'<text x="{x + 20}" y="24" font-size="13" {FONT}>'
            f'{text}</text>')
        x += 20 + 8 * len(labels[kind]) + 24
    parts.append('</svg>')
    return '\n'.join(parts).encode('utf-8')
