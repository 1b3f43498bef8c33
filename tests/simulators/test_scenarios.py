"""Scenario plans from files and the command line: read as documented, refused with a reason
a trainer can act on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import simulators
from simulators import Kind, Scenario, ScenarioError, load_plan, parse_scenario

SHIPPED = Path(simulators.__file__).parent / "plans" / "every-scenario.yaml"


def test_the_shipped_plan_has_every_scenario() -> None:
    plan = load_plan(SHIPPED)
    assert {s.kind for s in plan.scenarios} == set(Kind)
    assert (plan.subjects, plan.wristbands, plan.interval_s) == (30, 6, 5.0)


def test_a_json_plan_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"seed": 3, "scenarios": [{"kind": "cut_strap", "after_s": 4}]}))
    plan = load_plan(path)
    assert plan.seed == 3
    assert plan.scenarios == (Scenario(Kind.CUT_STRAP, 4.0),)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("scenarios:\n  - {kind: fly_away}\n", "scenarios.0.kind: Input should be"),
        ("scenarios:\n  - {kind: walk_out, after_s: -5}\n", "scenarios.0.after_s"),
        ("interval_s: 0\n", "interval_s: Input should be greater than 0"),
        ("colour: red\n", "colour: Extra inputs are not permitted"),
        ("scenarios: [\n", "while parsing"),
    ],
)
def test_a_bad_plan_says_what_is_wrong(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=problem):
        load_plan(path)


def test_scenarios_from_the_command_line() -> None:
    assert parse_scenario("walk_out@30") == Scenario(Kind.WALK_OUT, 30.0)
    assert parse_scenario("go_silent") == Scenario(Kind.GO_SILENT, 10.0)
    with pytest.raises(ScenarioError, match="KIND one of walk_out"):
        parse_scenario("levitate@5")


def test_the_cli_refuses_a_bad_scenario_before_connecting_anywhere() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ccmon", "simulate", "--scenario", "levitate"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert done.returncode != 0
    assert "'levitate': expected KIND or KIND@SECONDS" in done.stderr
