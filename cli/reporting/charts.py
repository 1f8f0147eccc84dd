"""Inline SVG charts for the offline HTML report.

Hand-written SVG keeps the report one self-contained file with no script
and no network asset, printable as it is. Every label is escaped. SVG inline in
HTML needs no ``xmlns``: the page holds no URL at all, which a reader can check.
"""

from __future__ import annotations

from html import escape

PALETTE = ["#2f6f8f", "#4e9a6e", "#d08c2e", "#b8504b", "#7b62a3", "#5a8fbf", "#8a8a8a"]


# Thousands are grouped with a narrow no-break space, as French typography does (1 922): it reads
# in any language and never splits a number across two lines.
THOUSANDS = "\u202f"


def format_number(value: float) -> str:
    """``value`` with grouped thousands, one decimal when it is not whole: ``1 922``, ``12.5``."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", THOUSANDS)
    return f"{int(value):,}".replace(",", THOUSANDS)


def _label(text: object, room: int) -> str:
    """A label's escaped text, cut with an ellipsis to about ``room`` pixels, and the whole of it as a tooltip.

    The labels are right-aligned against the bars: a long one (a source such as
    "Salon Animal Expo 2026 — Lyon Eurexpo, stand B12") would run off the
    chart's left edge and show only its end.
    """
    full = str(text)
    limit = max(room // 7, 4)  # about 7 px a character at the chart's 12 px
    shown = full if len(full) <= limit else full[: limit - 1].rstrip() + "\u2026"
    return escape(shown) + (f"<title>{escape(full)}</title>" if shown != full else "")


def bar_chart(items: list[tuple[str, float]], *, title: str, unit: str = "", width: int = 640) -> str:
    """Horizontal bars, one per (label, value), largest scale at the longest bar."""
    if not items:
        return f'<p class="empty">{escape(title)}: no data yet.</p>'
    row, label_w, pad = 26, 200, 70
    height = row * len(items) + 10
    top = max(v for _, v in items) or 1
    bars = []
    for i, (label, value) in enumerate(items):
        y = 5 + i * row
        w = max((width - label_w - pad) * value / top, 1 if value else 0)
        bars.append(
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{_label(label, label_w - 8)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" fill="{PALETTE[0]}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 17}">{format_number(value)}{escape(unit)}</text>'
        )
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}">'
        f'<title>{escape(title)}</title>{"".join(bars)}</svg>'
    )


def funnel(items: list[tuple[str, float]], *, title: str, width: int = 640) -> str:
    """Centred bars narrowing down the stages, widest for the largest; labels on the left."""
    if not items or not any(v for _, v in items):
        return f'<p class="empty">{escape(title)}: no data yet.</p>'
    row, label_w = 34, 150
    height = row * len(items) + 10
    top = max(v for _, v in items) or 1
    span = width - label_w - 60
    shapes = []
    for i, (label, value) in enumerate(items):
        y = 5 + i * row
        w = max(span * value / top, 2)
        x = label_w + (span - w) / 2
        colour = PALETTE[i % len(PALETTE)]
        shapes.append(
            f'<text x="{label_w - 10}" y="{y + 19}" text-anchor="end">{_label(label, label_w - 10)}</text>'
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 6}" rx="3" fill="{colour}"/>'
            f'<text x="{x + w + 6:.1f}" y="{y + 19}">{format_number(value)}</text>'
        )
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}">'
        f'<title>{escape(title)}</title>{"".join(shapes)}</svg>'
    )


def heat_grid(cells: dict[tuple[int, int], float], *, title: str, x_label: str, y_label: str, size: int = 5) -> str:
    """A size×size grid (x, y from 1 to size) shaded by value, each cell labelled."""
    if not cells:
        return f'<p class="empty">{escape(title)}: no data yet.</p>'
    cell, margin = 56, 40
    width = height = margin + cell * size + 10
    top = max(cells.values()) or 1
    parts = []
    for x in range(1, size + 1):
        for y in range(1, size + 1):
            value = cells.get((x, y), 0)
            opacity = 0.08 + 0.92 * value / top
            px, py = margin + (x - 1) * cell, 5 + (size - y) * cell
            parts.append(
                f'<rect x="{px}" y="{py}" width="{cell - 2}" height="{cell - 2}" fill="{PALETTE[0]}" '
                f'fill-opacity="{opacity:.2f}"/><text x="{px + cell / 2 - 1}" y="{py + cell / 2 + 4}" '
                f'text-anchor="middle">{format_number(value)}</text>'
            )
        parts.append(f'<text x="{margin + (x - 1) * cell + cell / 2}" y="{height - 18}" text-anchor="middle">{x}</text>')
    for y in range(1, size + 1):
        parts.append(f'<text x="{margin - 10}" y="{5 + (size - y) * cell + cell / 2 + 4}" text-anchor="end">{y}</text>')
    parts.append(f'<text x="{margin + cell * size / 2}" y="{height - 2}" text-anchor="middle">{escape(x_label)}</text>')
    parts.append(
        f'<text x="12" y="{5 + cell * size / 2}" text-anchor="middle" '
        f'transform="rotate(-90 12 {5 + cell * size / 2})">{escape(y_label)}</text>'
    )
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}">'
        f'<title>{escape(title)}</title>{"".join(parts)}</svg>'
    )
