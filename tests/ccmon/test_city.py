"""What `ccmon simulate` prints: progress while it runs, a summary per scenario at the end."""

from __future__ import annotations

from ccmon.city import progress_line, summary
from simulators import SimulationReport


def test_the_summary_has_a_line_per_scenario_with_what_to_expect() -> None:
    report = SimulationReport(devices=3)
    report.of("routine").fixes = 40
    report.of("cut_strap").fixes = 12
    report.of("cut_strap").events = 2
    report.of("malformed").malformed = 5
    lines = summary(report).splitlines()
    assert lines[0].split() == [
        "scenario", "fixes", "status", "batches", "dup", "late", "bad", "gaps", "expect"
    ]  # fmt: skip
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert rows["cut_strap"] == ["12", "2", "0", "0", "0", "0", "0", "tamper"]
    assert rows["malformed"][-2:] == ["0", "-"]
    assert rows["routine"] == ["40", "0", "0", "0", "0", "0", "0"]
    assert progress_line(report, 12.0) == (
        "[    12 s] 3 devices: 52 fixes, 2 device events, 0 batches, 5 malformed, 0 duplicates"
    )
