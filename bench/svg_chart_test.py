"""Tests of bench/svg_chart.py (run by CTest as bench.svg_chart.test)."""

import os
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svg_chart  # noqa: E402

NS = {"s": "http://www.w3.org/2000/svg"}


def doc_with(rows):
    return {"date": "2026-12-04T00:00:00+00:00", "commit": "abc1234", "threads": 2, "reps": 3,
            "host": {"nproc": 2, "machine": "x86_64"}, "rows": rows}


class RatioChart(unittest.TestCase):
    def bars(self, doc):
        root = ET.fromstring(svg_chart.ratio_svg(doc))  # valid XML, or this raises
        return root, [b for b in root.iter("{http://www.w3.org/2000/svg}rect")
                      if b.get("class") == "bar"]

    def test_one_bar_per_known_ratio(self):
        doc = doc_with([
            {"workload": "pingpong", "ratios": {"troupe/go": 2.0, "troupe/caf": 7.5,
                                                "troupe/erlang": None}},
            {"workload": "proc_ask", "ratios": {"troupe/go": None, "troupe/caf": None}},
            {"workload": "fjthrput", "ratios": {"troupe/go": 0.33, "troupe/caf": 2.5}},
        ])
        _, bars = self.bars(doc)
        got = sorted((b.get("data-workload"), b.get("data-peer")) for b in bars)
        self.assertEqual(got, [("fjthrput", "caf"), ("fjthrput", "go"),
                               ("pingpong", "caf"), ("pingpong", "go")])

    def test_faster_bars_start_at_1x_slower_end_there(self):
        doc = doc_with([{"workload": "w", "ratios": {"troupe/go": 4.0, "troupe/caf": 0.25}}])
        _, bars = self.bars(doc)
        by_peer = {b.get("data-peer"): b for b in bars}
        one = svg_chart.MARGIN + svg_chart.LABEL_W + svg_chart._x(1.0)
        fast, slow = by_peer["go"], by_peer["caf"]
        self.assertAlmostEqual(float(fast.get("x")), one, delta=0.1)
        self.assertAlmostEqual(float(slow.get("x")) + float(slow.get("width")), one, delta=0.2)
        # log scale: 4x and 1/4x are equally long
        self.assertAlmostEqual(float(fast.get("width")), float(slow.get("width")), delta=0.2)

    def test_names_are_escaped_and_extremes_clipped(self):
        doc = doc_with([{"workload": "a<b & \"c\"", "ratios": {"troupe/go": 1e6}}])
        root, bars = self.bars(doc)
        self.assertEqual(bars[0].get("data-workload"), "a<b & \"c\"")
        right = float(bars[0].get("x")) + float(bars[0].get("width"))
        self.assertLessEqual(right, svg_chart.MARGIN + svg_chart.LABEL_W + svg_chart.PLOT_W + 0.1)
        texts = "".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
        self.assertIn("abc1234", texts)

    def test_empty_document(self):
        _, bars = self.bars({"rows": []})
        self.assertEqual(bars, [])


if __name__ == "__main__":
    unittest.main()
