"""The ratio table of bench/compare as an SVG bar chart.

One group of bars per workload, one bar per peer: the ratio peer time /
troupe time (above 1: troupe is faster) on a log scale around a line at 1x.
Python 3 standard library only. Used by bench/compare (build/compare.svg
next to build/compare.json) and as a command:

    python3 bench/svg_chart.py build/compare.json [-o build/compare.svg]
"""

import argparse
import json
import math
import sys
from xml.sax.saxutils import escape

PEER_COLOURS = {"go": "#00add8", "caf": "#e07b00", "erlang": "#a2003e"}

ROW_H = 14  # one bar
GROUP_GAP = 10
LABEL_W = 190
PLOT_W = 520
MARGIN = 16
MIN_RATIO = 1 / 16  # the axis: 1/16x .. 16x
MAX_RATIO = 16.0


def _attr(text):
    """Text escaped for a double-quoted XML attribute."""
    return escape(str(text), {'"': "&quot;"})


def _x(ratio):
    """Pixel offset of a ratio on the log2 axis, 0 at MIN_RATIO."""
    r = min(max(ratio, MIN_RATIO), MAX_RATIO)
    span = math.log2(MAX_RATIO) - math.log2(MIN_RATIO)
    return (math.log2(r) - math.log2(MIN_RATIO)) / span * PLOT_W


def ratio_svg(doc):
    """Returns the SVG text for a compare.json document (a dict)."""
    rows = doc.get("rows", [])
    peers = [p for p in ("go", "caf", "erlang")
             if any(r.get("ratios", {}).get(f"troupe/{p}") is not None for r in rows)]
    groups = []
    for row in rows:
        bars = [(p, row["ratios"][f"troupe/{p}"]) for p in peers
                if row.get("ratios", {}).get(f"troupe/{p}") is not None]
        if bars:
            groups.append((row["workload"], bars))

    top = MARGIN + 44  # title and legend
    height = top + sum(len(b) * ROW_H + GROUP_GAP for _, b in groups) + 34 + MARGIN
    width = MARGIN + LABEL_W + PLOT_W + 60 + MARGIN
    x0 = MARGIN + LABEL_W
    one = x0 + _x(1.0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    host = doc.get("host", {})
    title = (f"troupe against its peers: peer time / troupe time (above 1x: troupe faster); "
             f"{doc.get('threads', '?')} threads, median of {doc.get('reps', '?')}")
    sub = f"{doc.get('date', '')}  {host.get('nproc', '?')} CPUs {host.get('machine', '')}"
    if doc.get("commit"):
        sub += f"  commit {doc['commit']}"
    out.append(f'<text x="{MARGIN}" y="{MARGIN + 10}" font-size="13" font-weight="bold">'
               f'{escape(title)}</text>')
    out.append(f'<text x="{MARGIN}" y="{MARGIN + 25}" fill="#555">{escape(sub)}</text>')
    lx = x0
    for p in peers:
        out.append(f'<rect x="{lx}" y="{MARGIN + 31}" width="10" height="10" '
                   f'fill="{PEER_COLOURS[p]}"/>')
        out.append(f'<text x="{lx + 14}" y="{MARGIN + 40}">troupe/{escape(p)}</text>')
        lx += 90

    # Grid: powers of two.
    bottom = height - MARGIN - 30
    k = MIN_RATIO
    while k <= MAX_RATIO:
        gx = x0 + _x(k)
        colour, w = ("#000", 1.2) if k == 1 else ("#ddd", 1)
        out.append(f'<line x1="{gx:.1f}" y1="{top - 4}" x2="{gx:.1f}" y2="{bottom}" '
                   f'stroke="{colour}" stroke-width="{w}"/>')
        label = f"{k:g}x" if k >= 1 else f"1/{1 / k:g}x"
        out.append(f'<text x="{gx:.1f}" y="{bottom + 14}" text-anchor="middle">{label}</text>')
        k *= 2

    y = top
    for name, bars in groups:
        gh = len(bars) * ROW_H
        out.append(f'<text x="{x0 - 6}" y="{y + gh / 2 + 4:.1f}" text-anchor="end">'
                   f'{escape(name)}</text>')
        for p, r in bars:
            bx = x0 + _x(r)
            left, w = (one, bx - one) if r >= 1 else (bx, one - bx)
            out.append(f'<rect class="bar" data-peer="{_attr(p)}" data-workload="{_attr(name)}" '
                       f'data-ratio="{r:.4g}" x="{left:.1f}" y="{y + 1}" width="{max(w, 1):.1f}" '
                       f'height="{ROW_H - 2}" fill="{PEER_COLOURS[p]}"/>')
            tx, anchor = (bx + 4, "start") if r >= 1 else (bx - 4, "end")
            out.append(f'<text x="{tx:.1f}" y="{y + ROW_H - 3}" text-anchor="{anchor}" '
                       f'font-size="10">{r:.2f}x</text>')
            y += ROW_H
        y += GROUP_GAP
    out.append(f'<text x="{x0 + PLOT_W / 2}" y="{bottom + 28}" text-anchor="middle" fill="#555">'
               f'log scale; bars are clipped at 1/16x and 16x</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description="Draws bench/compare's ratio table as SVG.")
    ap.add_argument("json", help="a compare.json written by bench/compare")
    ap.add_argument("-o", "--out", help="SVG file (default: the JSON's name with .svg)")
    opts = ap.parse_args(argv)
    with open(opts.json) as f:
        doc = json.load(f)
    out = opts.out or (opts.json[:-5] if opts.json.endswith(".json") else opts.json) + ".svg"
    with open(out, "w") as f:
        f.write(ratio_svg(doc))
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
