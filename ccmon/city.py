"""The synthetic city in the store (seeded once), what its scenarios need for each run (a
curfew window, an approved leave), and how a simulation reports itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import store
from domain import ORDER_MAX_MONTHS, Schedule, WeeklyWindow, ZoneRole, add_months
from simulators import EXPECTED_ALERTS, LEAVE_ENDS_S, Kind
from simulators.city import CONTACT_FOR_S, CONTACT_M, PROTECTED_RADIUS_M

if TYPE_CHECKING:
    from psycopg import AsyncConnection

    from simulators import City, SimulationReport

_SEEDER = "demo-seed"
_HOME_RADIUS_M = 150.0
_DESTINATION_MARGIN_M = 1500.0
_SHANGHAI = "Asia/Shanghai"


async def seed_city(conn: AsyncConnection[Any], city: City) -> None:
    """Register the city: a county bureau, and per district a justice office, the district
    as an inclusion zone and its school as an exclusion zone (each shared by all the
    district's subjects); every subject with its devices and a monitoring order of the
    longest allowed period, from today; the curfew breaker's home as a curfew zone; the
    prohibition orders: each protected person with their phone, kept from their subject, and
    each pair of co-defendants kept apart."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    county = await store.offices.create_office(conn, name="County Justice Bureau")
    offices, zones, schools, ids = [], [], [], []
    for d in city.districts:
        offices.append(
            await store.offices.create_office(
                conn, name=f"{d.name} Justice Office", parent_id=county
            )
        )
        zones.append(await store.zones.create_zone(conn, name=d.name, geometry=d.geojson()))
        schools.append(
            await store.zones.create_zone(conn, name=f"{d.name} school", geometry=d.school_zone())
        )
    for s in city.subjects:
        subject_id = await store.subjects.create_subject(
            conn, office_id=offices[s.district], name=s.name, level=s.level
        )
        ids.append(subject_id)
        for device in s.devices:
            await store.devices.create_device(
                conn, code=device.code, kind=device.kind, subject_id=subject_id, actor=_SEEDER
            )
        await store.orders.create_order(
            conn,
            subject_id=subject_id,
            approved_by="County Justice Bureau head (demo)",
            reason=f"demo: {s.level} supervision with electronic monitoring",
            starts_at=today,
            ends_at=add_months(today, ORDER_MAX_MONTHS),
            actor=_SEEDER,
        )
        await store.assignments.assign_zone(
            conn, subject_id=subject_id, zone_id=zones[s.district], role=ZoneRole.INCLUSION
        )
        await store.assignments.assign_zone(
            conn, subject_id=subject_id, zone_id=schools[s.district], role=ZoneRole.EXCLUSION
        )
        if s.scenario is not None and s.scenario.kind is Kind.BREAK_CURFEW:
            home = await store.zones.create_zone(
                conn,
                name=f"home of {s.name}",
                geometry={"type": "Circle", "center": list(s.home), "radius_m": _HOME_RADIUS_M},
            )
            await store.assignments.assign_zone(
                conn,
                subject_id=subject_id,
                zone_id=home,
                role=ZoneRole.INCLUSION,
                schedule=Schedule(timezone=_SHANGHAI, weekly=(_curfew_window(datetime.now(UTC)),)),
            )

    await _seed_prohibitions(conn, city, ids, offices)


async def _seed_prohibitions(
    conn: AsyncConnection[Any], city: City, ids: list[int], offices: list[int]
) -> None:
    for p in city.protected:
        subject = city.subjects[p.subject]
        person = await store.prohibitions.create_protected_person(
            conn,
            office_id=offices[subject.district],
            code=p.code,
            name=p.name,
            phone=None,
            sms_opt_in=False,
            language="zh",
            pursuit_consent=False,
        )
        await store.devices.create_device(
            conn,
            code=p.device.code,
            kind=p.device.kind,
            subject_id=None,
            protected_person_id=person,
            actor=_SEEDER,
        )
        await store.prohibitions.create_prohibition(
            conn,
            subject_id=ids[p.subject],
            protected_person_id=person,
            other_subject_id=None,
            distance_m=PROTECTED_RADIUS_M,
            for_s=0.0,
            warn_s=300.0,
            actor=_SEEDER,
        )
    for i, s in enumerate(city.subjects):
        meets = s.scenario is not None and s.scenario.kind is Kind.MEET_CODEFENDANT
        if meets and s.counterpart is not None and i < s.counterpart:  # the pair once
            await store.prohibitions.create_prohibition(
                conn,
                subject_id=ids[i],
                protected_person_id=None,
                other_subject_id=ids[s.counterpart],
                distance_m=CONTACT_M,
                for_s=CONTACT_FOR_S,
                warn_s=0.0,
                actor=_SEEDER,
            )


def _curfew_window(start: datetime) -> WeeklyWindow:
    """A nightly window that has just begun: from this minute, local time, for 8 hours."""
    local = start.astimezone(ZoneInfo(_SHANGHAI)).replace(second=0, microsecond=0)
    return WeeklyWindow(tuple(range(7)), local.time(), (local + timedelta(hours=8)).time())


async def prepare_run(
    conn: AsyncConnection[Any], city: City, *, start: datetime, time_scale: float
) -> None:
    """What this run's scenarios need, timed from `start`: the curfew window begins now, and
    the late returner has a leave approved from now until LEAVE_ENDS_S after their scenario
    begins (simulation seconds, `time_scale` times real time)."""
    subject_of = {d.code: d.subject_id for d in await store.devices.load_devices(conn)}
    curfews = {
        a.subject_id: a.id
        for a in await store.assignments.load_assignments(conn)
        if a.schedule.weekly
    }
    for s in city.subjects:
        subject_id = subject_of.get(s.devices[0].code)
        if s.scenario is None or subject_id is None:
            continue
        if s.scenario.kind is Kind.BREAK_CURFEW and subject_id in curfews:
            await store.assignments.set_schedule(
                conn,
                assignment_id=curfews[subject_id],
                schedule=Schedule(timezone=_SHANGHAI, weekly=(_curfew_window(start),)),
            )
        if s.scenario.kind is Kind.LATE_RETURN:
            ends = start + timedelta(seconds=(s.scenario.after_s + LEAVE_ENDS_S) / time_scale)
            destination = await store.zones.create_zone(
                conn,
                name=f"leave destination of {s.name}",
                geometry={
                    "type": "Circle",
                    "center": list(s.home),
                    "radius_m": city.districts[s.district].min_radius_m + _DESTINATION_MARGIN_M,
                },
            )
            leave = await store.leaves.request_leave(
                conn,
                subject_id=subject_id,
                destination_zone_id=destination,
                starts_at=start,
                ends_at=ends,
                reason="demo: family visit",
                actor=_SEEDER,
            )
            await store.leaves.decide_leave(conn, leave_id=leave, approve=True, actor=_SEEDER)


def progress_line(report: SimulationReport, elapsed_s: float) -> str:
    total = report.total
    return (
        f"[{elapsed_s:6.0f} s] {report.devices} devices: {total.fixes} fixes,"
        f" {total.events} device events, {total.batches} batches,"
        f" {total.malformed} malformed, {total.duplicates} duplicates"
    )


def summary(report: SimulationReport) -> str:
    """One line per scenario: what was sent, and the alerts ccmon should have raised."""
    rows = [("scenario", "fixes", "status", "batches", "dup", "late", "bad", "gaps", "expect")]
    for label, sent in sorted(report.by_label.items()):
        ordinary = label in {"routine", "protected"}
        expected = "" if ordinary else ", ".join(EXPECTED_ALERTS[Kind(label)]) or "-"
        rows.append(
            (
                label,
                str(sent.fixes),
                str(sent.events),
                str(sent.batches),
                str(sent.duplicates),
                str(sent.out_of_order),
                str(sent.malformed),
                str(sent.gaps),
                expected,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )
