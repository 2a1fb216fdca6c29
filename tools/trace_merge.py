#!/usr/bin/env python3
"""Merges the trace files of one run into one Chrome trace event file.

A program run with TROUPE_TRACE=run.json writes run.json, and each child
process it starts (isolated actors, process-pool workers) writes
run.<pid>.json. All share one time base, and a message's flow id is unique
across them, so merged into one file the arrows from a parent's send to the
child's handling of it connect. Perfetto and chrome://tracing open the
result; tools/trace_svg.py draws it.

    python3 tools/trace_merge.py run.json run.*.json -o run.all.json
"""

import argparse
import json
import sys


def load(path):
    with open(path, "rb") as f:
        data = json.load(f)
    if isinstance(data, list):  # the JSON array form
        return {"traceEvents": data}
    if not isinstance(data, dict) or not isinstance(data.get("traceEvents"), list):
        raise ValueError(f"{path}: not a Chrome trace (no traceEvents list)")
    return data


def merge(traces):
    """One trace holding every event of `traces`, with their counts summed."""
    events = []
    dropped = 0
    count = 0
    for t in traces:
        events.extend(t["traceEvents"])
        other = t.get("otherData") or {}
        dropped += int(other.get("dropped_events", 0))
        count += int(other.get("events", 0))
    return {"traceEvents": events, "displayTimeUnit": "ns",
            "otherData": {"dropped_events": dropped, "events": count,
                          "merged_files": len(traces)}}


def main(argv=None):
    ap = argparse.ArgumentParser(description="Merges Chrome trace files into one.")
    ap.add_argument("traces", nargs="+", help="trace files (JSON)")
    ap.add_argument("-o", "--out", required=True, help="the merged file")
    args = ap.parse_args(argv)
    try:
        merged = merge([load(p) for p in args.traces])
    except (OSError, ValueError) as e:
        print(f"trace_merge: {e}", file=sys.stderr)
        return 1
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(merged, f, separators=(",", ":"))
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
