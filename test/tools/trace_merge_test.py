"""Tests of tools/trace_merge.py (run by CTest as tools.trace_merge.test)."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools", "trace_merge.py")

PARENT = {"traceEvents": [
    {"ph": "M", "name": "process_name", "pid": 1, "args": {"name": "troupe 1"}},
    {"ph": "s", "cat": "message", "name": "message", "id": 2147483649, "pid": 1, "tid": 1,
     "ts": 10},
], "otherData": {"dropped_events": 3, "events": 1}}
CHILD = {"traceEvents": [
    {"ph": "M", "name": "process_name", "pid": 2, "args": {"name": "troupe 2"}},
    {"ph": "X", "cat": "link", "name": "frame from parent", "pid": 2, "tid": 1, "ts": 20,
     "dur": 1},
    {"ph": "f", "bp": "e", "cat": "message", "name": "message", "id": 2147483649, "pid": 2,
     "tid": 1, "ts": 20},
], "otherData": {"dropped_events": 0, "events": 2}}


class TraceMergeTest(unittest.TestCase):
    def run_tool(self, d, *files):
        out = os.path.join(d, "all.json")
        proc = subprocess.run([sys.executable, TOOL, *files, "-o", out],
                              capture_output=True, text=True)
        return proc, out

    def write(self, d, name, data):
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(data if isinstance(data, str) else json.dumps(data))
        return p

    def test_merges_events_and_counts(self):
        with tempfile.TemporaryDirectory() as d:
            proc, out = self.run_tool(d, self.write(d, "a.json", PARENT),
                                      self.write(d, "b.json", CHILD))
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with open(out) as f:
                m = json.load(f)
            self.assertEqual(len(m["traceEvents"]), 5)
            self.assertEqual(m["otherData"]["dropped_events"], 3)
            self.assertEqual(m["otherData"]["events"], 3)
            ids = {(e["ph"], e["id"]) for e in m["traceEvents"] if "id" in e}
            self.assertEqual(ids, {("s", 2147483649), ("f", 2147483649)})
            self.assertEqual({e["pid"] for e in m["traceEvents"]}, {1, 2})

    def test_refuses_a_file_that_is_not_a_trace(self):
        with tempfile.TemporaryDirectory() as d:
            proc, _ = self.run_tool(d, self.write(d, "a.json", {"nope": 1}))
            self.assertEqual(proc.returncode, 1)
            self.assertIn("a.json: not a Chrome trace", proc.stderr)
            proc, _ = self.run_tool(d, self.write(d, "b.json", "{truncated"))
            self.assertEqual(proc.returncode, 1)
            self.assertIn("trace_merge:", proc.stderr)
            proc, _ = self.run_tool(d, os.path.join(d, "missing.json"))
            self.assertEqual(proc.returncode, 1)
            self.assertIn("missing.json", proc.stderr)


if __name__ == "__main__":
    unittest.main()
