"""Tests of tools/trace_svg.py (run by CTest as tools.trace_svg.test)."""

import json
import os
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import trace_svg  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"

# Two workers, a send on one taken by a handler run on the other, a B/E pair,
# an instant, and metadata naming the threads.
EVENTS = [
    {"ph": "M", "name": "process_name", "pid": 1, "args": {"name": "app"}},
    {"ph": "M", "name": "thread_name", "pid": 1, "tid": 10, "args": {"name": "worker 0"}},
    {"ph": "M", "name": "thread_name", "pid": 1, "tid": 11, "args": {"name": "worker <1>"}},
    {"ph": "X", "name": "Producer::on(Start)", "pid": 1, "tid": 10, "ts": 100, "dur": 50},
    {"ph": "s", "cat": "msg", "id": 7, "name": "send", "pid": 1, "tid": 10, "ts": 120},
    {"ph": "f", "bp": "e", "cat": "msg", "id": 7, "name": "send", "pid": 1, "tid": 11,
     "ts": 160},
    {"ph": "X", "name": "Consumer::on(Item)", "pid": 1, "tid": 11, "ts": 160, "dur": 30},
    {"ph": "B", "name": "outer", "pid": 1, "tid": 11, "ts": 200},
    {"ph": "E", "pid": 1, "tid": 11, "ts": 260},
    {"ph": "i", "s": "t", "name": "exit: Consumer (normal)", "pid": 1, "tid": 11, "ts": 270},
    {"ph": "s", "cat": "msg", "id": 8, "name": "send", "pid": 1, "tid": 10, "ts": 130},
]


def parse(svg_text):
    return ET.fromstring(svg_text)  # raises unless well-formed


def of_class(root, tag, cls):
    return [e for e in root.iter(SVG + tag) if e.get("class") == cls]


class TraceSvg(unittest.TestCase):
    def test_lanes_slices_flows_and_instants(self):
        root = parse(trace_svg.render(EVENTS))
        lanes = [e.text for e in of_class(root, "text", "lane")]
        self.assertEqual(lanes, ["app: worker 0", "app: worker <1>"])
        self.assertEqual(len(of_class(root, "rect", "slice")), 3)  # two X and one B/E
        self.assertEqual(len(of_class(root, "line", "flow")), 1)  # id 8 has no end
        self.assertEqual(len(of_class(root, "path", "instant")), 1)

    def test_the_flow_goes_from_the_send_to_the_run(self):
        root = parse(trace_svg.render(EVENTS))
        (flow,) = of_class(root, "line", "flow")
        self.assertLess(float(flow.get("x1")), float(flow.get("x2")))
        self.assertLess(float(flow.get("y1")), float(flow.get("y2")))  # lane 0 to lane 1

    def test_a_window_keeps_what_overlaps_it(self):
        root = parse(trace_svg.render(EVENTS, t_from=150, t_to=195))
        self.assertEqual(len(of_class(root, "rect", "slice")), 1)

    def test_dropped_events_are_named(self):
        root = parse(trace_svg.render(EVENTS, {"dropped_events": 42}))
        texts = " ".join(e.text or "" for e in root.iter(SVG + "text"))
        self.assertIn("42 events dropped", texts)

    def test_command_line(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.json")
            with open(path, "w") as f:
                json.dump({"traceEvents": EVENTS, "displayTimeUnit": "ns"}, f)
            tool = os.path.join(ROOT, "tools", "trace_svg.py")
            out = subprocess.run([sys.executable, tool, path], capture_output=True, text=True,
                                 check=True).stdout.strip()
            self.assertEqual(out, os.path.join(d, "t.svg"))
            with open(out) as f:
                parse(f.read())
            bad = os.path.join(d, "bad.json")
            with open(bad, "w") as f:
                f.write('{"traceEvents": [')  # cut short
            r = subprocess.run([sys.executable, tool, bad], capture_output=True, text=True)
            self.assertEqual(r.returncode, 2)
            self.assertIn("bad.json", r.stderr)


if __name__ == "__main__":
    unittest.main()
