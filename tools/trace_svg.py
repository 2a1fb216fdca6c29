#!/usr/bin/env python3
"""Draws a Chrome trace event file (the JSON that troupe's tracer writes, and
that Perfetto and chrome://tracing open) as an SVG timeline: one lane per
thread, a box per complete slice ("X", or a "B"/"E" pair), a tick per instant
("i"), and a line per flow from its start ("s") to its end ("f"). Python 3's
standard library only, so a trace can be looked at without a browser.

    python3 tools/trace_svg.py trace.json [-o trace.svg] [--width 1400]
                               [--from-us T0] [--to-us T1] [--max-flows 400]
"""

import argparse
import hashlib
import json
import sys
from xml.sax.saxutils import escape

LANE_H = 22
LABEL_W = 170
MARGIN = 14
HEADER_H = 46
AXIS_H = 30


def _attr(text):
    return escape(str(text), {'"': "&quot;"})


def _colour(name):
    """A stable, light colour for a slice name."""
    h = int(hashlib.md5(name.encode()).hexdigest()[:6], 16)
    return f"hsl({h % 360}, 55%, {62 + (h >> 9) % 16}%)"


def load(path):
    """The events of a trace file: the object form {"traceEvents": [...]} or a
    bare array. Returns (events, other_data)."""
    with open(path) as f:
        doc = json.load(f)
    if isinstance(doc, list):
        return doc, {}
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        raise ValueError("not a Chrome trace (no traceEvents array)")
    return doc["traceEvents"], doc.get("otherData", {})


def model(events):
    """Lanes, slices, instants and flows of a list of trace events."""
    names = {}  # (pid, tid) -> thread name
    procs = {}  # pid -> process name
    slices, instants, flow_starts, flow_ends = [], [], {}, {}
    open_b = {}  # (pid, tid) -> stack of B events
    lanes = set()
    for e in events:
        ph = e.get("ph")
        key = (e.get("pid", 0), e.get("tid", 0))
        if ph == "M":
            if e.get("name") == "thread_name":
                names[key] = e.get("args", {}).get("name", "")
            elif e.get("name") == "process_name":
                procs[e.get("pid", 0)] = e.get("args", {}).get("name", "")
            continue
        ts = e.get("ts")
        if not isinstance(ts, (int, float)):
            continue
        lanes.add(key)
        if ph == "X":
            slices.append((key, ts, float(e.get("dur", 0)), e.get("name", ""), e))
        elif ph == "B":
            open_b.setdefault(key, []).append(e)
        elif ph == "E":
            stack = open_b.get(key)
            if stack:
                b = stack.pop()
                slices.append((key, b["ts"], ts - b["ts"], b.get("name", ""), b))
        elif ph in ("i", "I"):
            instants.append((key, ts, e.get("name", ""), e))
        elif ph == "s":
            flow_starts[(e.get("cat"), e.get("id"))] = (key, ts)
        elif ph in ("f", "t"):
            flow_ends[(e.get("cat"), e.get("id"))] = (key, ts)
    flows = [(flow_starts[k], flow_ends[k]) for k in flow_starts if k in flow_ends]
    order = sorted(lanes, key=lambda k: (k[0], names.get(k, ""), k[1]))
    return order, names, procs, slices, instants, flows


def render(events, other=None, width=1400, t_from=None, t_to=None, max_flows=400):
    """Returns the SVG text for a list of trace events."""
    lanes, names, procs, slices, instants, flows = model(events)
    stamps = [s[1] for s in slices] + [s[1] + s[2] for s in slices] + [i[1] for i in instants]
    t0 = t_from if t_from is not None else (min(stamps) if stamps else 0)
    t1 = t_to if t_to is not None else (max(stamps) if stamps else 1)
    if t1 <= t0:
        t1 = t0 + 1
    plot_w = width - LABEL_W - 2 * MARGIN
    lane_y = {k: HEADER_H + MARGIN + i * LANE_H for i, k in enumerate(lanes)}
    height = HEADER_H + MARGIN + len(lanes) * LANE_H + AXIS_H + MARGIN

    def x(t):
        return MARGIN + LABEL_W + (t - t0) / (t1 - t0) * plot_w

    def visible(a, b):
        return b > t0 and a < t1 or t0 <= a == b <= t1

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10">',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    dropped = (other or {}).get("dropped_events", 0)
    title = (f"{len(slices)} slices, {len(instants)} instants, {len(flows)} flows on "
             f"{len(lanes)} threads; {t1 - t0:.0f} us shown")
    if dropped:
        title += f"; {dropped} events dropped (ring buffers wrapped)"
    out.append(f'<text x="{MARGIN}" y="{MARGIN + 8}" font-size="13" font-weight="bold">'
               f'{escape(title)}</text>')
    out.append(f'<text x="{MARGIN}" y="{MARGIN + 24}" fill="#555">boxes: handler runs and other '
               f'slices; ticks: instants (spawn, exit, ...); lines: a message from its send to '
               f'the run that took it</text>')

    for k in lanes:
        y = lane_y[k]
        proc = procs.get(k[0])
        label = names.get(k, f"thread {k[1]}")
        if proc:
            label = f"{proc}: {label}"
        out.append(f'<rect x="{MARGIN + LABEL_W}" y="{y}" width="{plot_w}" height="{LANE_H - 2}" '
                   f'fill="#f4f4f4"/>')
        out.append(f'<text class="lane" x="{MARGIN + LABEL_W - 6}" y="{y + 14}" '
                   f'text-anchor="end">{escape(label)}</text>')

    for key, ts, dur, name, e in slices:
        if not visible(ts, ts + dur):
            continue
        a, b = max(x(ts), x(t0)), min(x(ts + dur), x(t1))
        y = lane_y[key]
        tip = f"{name}  {dur:.1f} us"
        out.append(f'<rect class="slice" x="{a:.2f}" y="{y + 1}" width="{max(b - a, 0.5):.2f}" '
                   f'height="{LANE_H - 4}" fill="{_colour(name)}" stroke="#777" '
                   f'stroke-width="0.3"><title>{escape(tip)}</title></rect>')
        if b - a > 6 * len(name) * 0.6:
            out.append(f'<text x="{a + 2:.2f}" y="{y + 14}" clip-path="none">'
                       f'{escape(name)}</text>')

    shown = 0
    for (ka, ta), (kb, tb) in sorted(flows, key=lambda f: f[0][1]):
        if shown >= max_flows:
            break
        if not visible(min(ta, tb), max(ta, tb)):
            continue
        shown += 1
        out.append(f'<line class="flow" x1="{x(ta):.2f}" y1="{lane_y[ka] + LANE_H / 2:.1f}" '
                   f'x2="{x(tb):.2f}" y2="{lane_y[kb] + LANE_H / 2:.1f}" stroke="#3355aa" '
                   f'stroke-width="0.6" stroke-opacity="0.6"/>')

    for key, ts, name, e in instants:
        if not visible(ts, ts):
            continue
        xi, y = x(ts), lane_y[key]
        out.append(f'<path class="instant" d="M{xi:.2f},{y} l3,6 l-6,0 z" fill="#c0392b">'
                   f'<title>{escape(name)}</title></path>')

    # Time axis: about ten ticks at a round step.
    span = t1 - t0
    step = next(m * 10.0**k for k in range(-1, 12) for m in (1, 2, 5) if span / (m * 10.0**k) <= 12)
    ay = HEADER_H + MARGIN + len(lanes) * LANE_H + 4
    t = t0 - (t0 % step) + (step if t0 % step else 0)
    while t <= t1:
        out.append(f'<line x1="{x(t):.1f}" y1="{ay}" x2="{x(t):.1f}" y2="{ay + 5}" stroke="#000"/>')
        out.append(f'<text x="{x(t):.1f}" y="{ay + 16}" text-anchor="middle">'
                   f'{(t - t0) / 1000:g} ms</text>')
        t += step
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description="Draws a Chrome trace event file as an SVG timeline.")
    ap.add_argument("trace", help="a trace file (JSON, Chrome trace event format)")
    ap.add_argument("-o", "--out", help="SVG file (default: the trace's name with .svg)")
    ap.add_argument("--width", type=int, default=1400, help="picture width in pixels (1400)")
    ap.add_argument("--from-us", type=float, help="start of the window, trace microseconds")
    ap.add_argument("--to-us", type=float, help="end of the window, trace microseconds")
    ap.add_argument("--max-flows", type=int, default=400, help="flow lines drawn at most (400)")
    opts = ap.parse_args(argv)
    try:
        events, other = load(opts.trace)
    except (OSError, ValueError) as e:  # json.JSONDecodeError is a ValueError
        print(f"trace_svg: {opts.trace}: {e}", file=sys.stderr)
        return 2
    out = opts.out or (opts.trace[:-5] if opts.trace.endswith(".json") else opts.trace) + ".svg"
    with open(out, "w") as f:
        f.write(render(events, other, opts.width, opts.from_us, opts.to_us, opts.max_flows))
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
