"""bench_update.py writes its own section of bench/RESULTS.md and leaves the rest alone."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))  # bench_update imports bench_scale

from bench.bench_update import BEGIN, END, render, write_section

STEP = {"seconds": 9.7, "embedding_seconds": 0.0, "peak_rss_mib": 700.0}
ROW = {
    "build": {"seconds": 2181.0, "peak_rss_mib": 812.5},
    "no_change": STEP,
    "add": {**STEP, "seconds": 12.2, "embedding_seconds": 1.7},
    "remove": {**STEP, "seconds": 10.9, "peak_rss_mib": 720.0},
    "answering": {"chunks": 991_807, "index_type": "ivf-pq", "p50_ms": 48.3, "p95_ms": 75.2,
                  "rss_mib": 308.0, "rss_anon_mib": 232.0, "rss_file_mib": 76.0,
                  "recall@10_vs_exact": 0.966},
}  # fmt: skip
RUN = {"date": "2026-12-03 07:00 UTC", "machine": "x86_64, 2 CPUs", "repeats": 1, "rows": [ROW]}


def test_the_section_holds_every_figure_of_a_row() -> None:
    text = render(RUN)
    row = next(line for line in text.splitlines() if line.startswith("| 991,807"))
    for figure in ("2181.0", "812.5", "9.7", "12.2 (1.7)", "10.9", "720.0", "ivf-pq",
                   "48.3 / 75.2", "308.0 (232.0 + 76.0)", "0.966"):  # fmt: skip
        assert figure in row
    assert "load average not recorded" in text


def test_the_section_replaces_its_previous_self_only(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\nrun_all's tables\n")
    write_section(results, render(RUN))
    write_section(results, render({**RUN, "date": "later", "load": (1.0, 2.0)}))
    text = results.read_text()
    assert text.startswith("# Benchmark results\n\nrun_all's tables\n")
    assert text.count(BEGIN) == text.count(END) == 1
    assert "run later" in text and "2026-12-03" not in text
