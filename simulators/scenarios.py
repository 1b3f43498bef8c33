"""Scenarios: what a simulated subject does wrong (or what its device does), from a file or
the command line. Each names the alerts ccmon should raise for it, and nothing else."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

if TYPE_CHECKING:
    from pathlib import Path


class Kind(StrEnum):
    WALK_OUT = "walk_out"  # drives out of the district
    HEADS_FOR_SCHOOL = "heads_for_school"  # drives to the school the court keeps them from
    PASS_BY = "pass_by"  # noqa: S105 (a name, not a password): drives past that school, 150 m off
    BREAK_CURFEW = "break_curfew"  # out of the home zone during the curfew window
    PHONE_LEFT_HOME = "phone_left_home"  # the wristband leaves, the phone stays (人机分离)
    CUT_STRAP = "cut_strap"  # the wristband reports its strap cut
    BATTERY_DIES = "battery_dies"  # low battery, power off, then nothing
    GO_SILENT = "go_silent"  # every device stops reporting (失联)
    LATE_RETURN = "late_return"  # an approved leave, back after it ends
    DUPLICATES = "duplicates"  # every fix delivered twice, some out of order
    MALFORMED = "malformed"  # broken payloads among good ones
    APPROACH_VICTIM = "approach_victim"  # heads for the person the court protects, who walks
    MEET_CODEFENDANT = "meet_codefendant"  # meets a co-defendant the order keeps them from
    TELEPORT = "teleport"  # a faking app puts the phone across the county, and keeps it there
    CLOCK_BACK = "clock_back"  # the phone's clock set back ten minutes (a replay), numbered on
    STILL_PHONE = "still_phone"  # the phone fakes GNSS at home, perfectly still; the band walks
    MOCK_APP = "mock_app"  # the phone says its positions come from a mock location app


# What ccmon should raise for each, and nothing else.
EXPECTED_ALERTS: dict[Kind, tuple[str, ...]] = {
    Kind.WALK_OUT: ("zone_exit",),
    Kind.HEADS_FOR_SCHOOL: ("approaching", "zone_entry"),  # warned of on the way, then there
    Kind.PASS_BY: (),
    Kind.BREAK_CURFEW: ("curfew",),
    Kind.PHONE_LEFT_HOME: ("separation",),
    Kind.CUT_STRAP: ("tamper",),
    Kind.BATTERY_DIES: ("low_battery", "subject_silent"),  # silent: "switched off (it said so)"
    Kind.GO_SILENT: ("subject_silent",),  # its only device: the subject's alert, not the device's
    Kind.LATE_RETURN: ("leave_overdue",),
    Kind.DUPLICATES: (),
    Kind.MALFORMED: (),
    # warned of first (an officer can call before), then there
    Kind.APPROACH_VICTIM: ("approaching", "protected_person_proximity"),
    Kind.MEET_CODEFENDANT: ("prohibited_contact",),  # for both of them
    Kind.TELEPORT: ("suspect_location", "zone_exit"),  # the fixes say it left: it did not
    # its fixes tell nothing of now: the clock check raises it, and it falls silent
    Kind.CLOCK_BACK: ("suspect_location", "subject_silent"),
    Kind.STILL_PHONE: ("separation", "suspect_location"),
    Kind.MOCK_APP: ("suspect_location",),
}

NEEDS_WRISTBAND = frozenset({Kind.PHONE_LEFT_HOME, Kind.CUT_STRAP, Kind.STILL_PHONE})

# How far back a clock set back goes, in simulation seconds.
CLOCK_BACK_S = 600.0

# Timeline of a late return, in simulation seconds after the scenario starts: the leave runs
# from the start of the run to LEAVE_ENDS_S; the subject is back home RETURN_S later.
LEAVE_ENDS_S = 60.0
RETURN_S = 100.0


@dataclass(frozen=True, slots=True)
class Scenario:
    kind: Kind
    after_s: float = 10.0  # simulation seconds from the start

    @property
    def expected(self) -> tuple[str, ...]:
        return EXPECTED_ALERTS[self.kind]


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message says what is wrong."""


class _ScenarioModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Kind
    after_s: Annotated[float, Field(ge=0)] = 10.0


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seed: int = 1
    subjects: Annotated[int, Field(ge=1)] = 50
    wristbands: Annotated[int, Field(ge=0)] = 10
    interval_s: Annotated[float, Field(gt=0)] = 5.0
    time_scale: Annotated[float, Field(gt=0)] = 1.0
    scenarios: list[_ScenarioModel] = []


@dataclass(frozen=True, slots=True)
class Plan:
    """A whole simulation: the city's size, the devices' pace, and the scenarios."""

    seed: int = 1
    subjects: int = 50
    wristbands: int = 10
    interval_s: float = 5.0
    time_scale: float = 1.0  # simulation seconds per real second (movement only)
    scenarios: tuple[Scenario, ...] = ()


def load_plan(path: Path) -> Plan:
    """A plan from a YAML (.yaml, .yml) or JSON file."""
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) if path.suffix in {".yaml", ".yml"} else json.loads(text)
        model = _FileModel.model_validate(data)
    except (OSError, yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ScenarioError(f"{path}: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ScenarioError(f"{path}: {problems}") from exc
    return Plan(
        seed=model.seed,
        subjects=max(model.subjects, len(model.scenarios)),
        wristbands=model.wristbands,
        interval_s=model.interval_s,
        time_scale=model.time_scale,
        scenarios=tuple(Scenario(s.kind, s.after_s) for s in model.scenarios),
    )


def parse_scenario(text: str) -> Scenario:
    """`kind` or `kind@after_s`, as given on the command line (`walk_out@30`)."""
    kind, _, after = text.partition("@")
    try:
        return Scenario(Kind(kind), float(after) if after else 10.0)
    except ValueError as exc:
        kinds = ", ".join(k.value for k in Kind)
        raise ScenarioError(
            f"{text!r}: expected KIND or KIND@SECONDS, KIND one of {kinds}"
        ) from exc


# The demo: every kind once, staggered so the alerts arrive one after another.
DEMO_SCENARIOS = (
    Scenario(Kind.HEADS_FOR_SCHOOL, 10.0),
    Scenario(Kind.WALK_OUT, 5.0),
    Scenario(Kind.WALK_OUT, 10.0),
    Scenario(Kind.WALK_OUT, 15.0),
    Scenario(Kind.CUT_STRAP, 20.0),
    Scenario(Kind.PHONE_LEFT_HOME, 25.0),
    Scenario(Kind.BREAK_CURFEW, 30.0),
    Scenario(Kind.LATE_RETURN, 20.0),
    Scenario(Kind.BATTERY_DIES, 40.0),
    Scenario(Kind.GO_SILENT, 45.0),
    Scenario(Kind.DUPLICATES, 0.0),
    Scenario(Kind.MALFORMED, 0.0),
    Scenario(Kind.APPROACH_VICTIM, 50.0),
    Scenario(Kind.MEET_CODEFENDANT, 55.0),
    Scenario(Kind.PASS_BY, 15.0),
    Scenario(Kind.MOCK_APP, 30.0),
    Scenario(Kind.CLOCK_BACK, 35.0),
    Scenario(Kind.TELEPORT, 60.0),
    Scenario(Kind.STILL_PHONE, 60.0),
)
