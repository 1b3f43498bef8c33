"""`ccmon bench geofence`: the hot path against shapely 2 on the same synthetic county.

Every subject has its own 1,000-vertex inclusion polygon and 5 exclusion circles, and all
share one 5,000-vertex county outline; batches of fixes are 80% well inside the subject's
polygon, 15% within 50 m of its border, 5% outside it.
"""

from __future__ import annotations

import math
import resource
import time
import tracemalloc
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import Polygon

from ccmon.bench import postgis
from ccmon.bench.common import best_of, print_table
from domain import Assignment, FixBatch, Zone, ZoneRole
from geofence import Evaluation, ZoneIndex

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

_M_PER_DEG = 111_195.08
_CENTRE = (104.066, 30.657)
_COUNTY_R_M = 40_000.0
_OWN_R_M = 2_000.0


@dataclass(frozen=True)
class _World:
    zones: list[Zone]
    assignments: list[Assignment]
    homes: NDArray[np.float64]  # (n, 2) lon, lat
    own_rings: list[NDArray[np.float64]]  # per subject, (vertices + 1, 2) closed
    own_phase: NDArray[np.float64]
    circles: NDArray[np.float64]  # (n, 5, 3) lon, lat, radius


def _star_radius(
    angle: NDArray[np.float64], phase: NDArray[np.float64], base: float
) -> NDArray[np.float64]:
    """A smooth irregular outline: the radius at `angle` for a shape with this phase."""
    return base * (1 + 0.18 * np.sin(3 * angle + phase) + 0.08 * np.sin(7 * angle + 2 * phase))


def _ring(
    centre: NDArray[np.float64], phase: float, base: float, vertices: int
) -> NDArray[np.float64]:
    a = np.linspace(0, 2 * math.pi, vertices, endpoint=False)
    r = _star_radius(a, np.full_like(a, phase), base)
    k = _M_PER_DEG * math.cos(math.radians(centre[1]))
    ring = np.column_stack([centre[0] + r * np.cos(a) / k, centre[1] + r * np.sin(a) / _M_PER_DEG])
    return np.vstack([ring, ring[:1]])


def _offset(
    lon_lat: NDArray[np.float64], east: NDArray[np.float64], north: NDArray[np.float64]
) -> NDArray[np.float64]:
    k = _M_PER_DEG * np.cos(np.radians(lon_lat[..., 1]))
    return np.stack([lon_lat[..., 0] + east / k, lon_lat[..., 1] + north / _M_PER_DEG], axis=-1)


def make_world(subjects: int, seed: int) -> _World:
    rng = np.random.default_rng(seed)
    county = _ring(np.array(_CENTRE), 0.3, _COUNTY_R_M, 5000)
    zones = [Zone(1, "county", {"type": "Polygon", "coordinates": [county.tolist()]})]
    assignments: list[Assignment] = []
    a = rng.uniform(0, 2 * math.pi, subjects)
    r = _COUNTY_R_M * 0.55 * np.sqrt(rng.uniform(0, 1, subjects))
    homes = _offset(np.tile(np.array(_CENTRE), (subjects, 1)), r * np.cos(a), r * np.sin(a))
    phase = rng.uniform(0, 2 * math.pi, subjects)
    ca = rng.uniform(0, 2 * math.pi, (subjects, 5))
    cr = rng.uniform(0.3, 0.6, (subjects, 5)) * _OWN_R_M * 0.8
    centres = _offset(homes[:, None, :], cr * np.cos(ca), cr * np.sin(ca))
    radius = rng.uniform(100, 300, (subjects, 5))
    own_rings = []
    next_id = 2
    for i in range(subjects):
        ring = _ring(homes[i], float(phase[i]), _OWN_R_M, 1000)
        own_rings.append(ring)
        zones.append(
            Zone(next_id, f"home {i}", {"type": "Polygon", "coordinates": [ring.tolist()]})
        )
        assignments.append(Assignment(len(assignments) + 1, i, next_id, ZoneRole.INCLUSION))
        next_id += 1
        for j in range(5):
            circle = {
                "type": "Circle",
                "center": centres[i, j].tolist(),
                "radius_m": float(radius[i, j]),
            }
            zones.append(Zone(next_id, f"exclusion {i}.{j}", circle))
            assignments.append(Assignment(len(assignments) + 1, i, next_id, ZoneRole.EXCLUSION))
            next_id += 1
        assignments.append(Assignment(len(assignments) + 1, i, 1, ZoneRole.INCLUSION))
    circles = np.concatenate([centres, radius[..., None]], axis=-1)
    return _World(zones, assignments, homes, own_rings, phase, circles)


def accuracies(n: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """85% GNSS (3-20 m), 12% Wi-Fi (20-100 m), 3% cell (300-1,500 m)."""
    source = rng.uniform(0, 1, n)
    accuracy = np.where(
        source < 0.85,
        rng.uniform(3, 20, n),
        np.where(source < 0.97, rng.uniform(20, 100, n), rng.uniform(300, 1500, n)),
    )
    return accuracy


def make_batch(world: _World, n: int, rng: np.random.Generator) -> FixBatch:
    subject = rng.integers(0, world.homes.shape[0], n)
    a = rng.uniform(0, 2 * math.pi, n)
    edge = _star_radius(a, world.own_phase[subject], _OWN_R_M)
    kind = rng.uniform(0, 1, n)
    r = np.where(
        kind < 0.80,
        edge * rng.uniform(0, 0.85, n),
        np.where(kind < 0.95, edge + rng.uniform(-50, 50, n), edge + rng.uniform(200, 2000, n)),
    )
    pos = _offset(world.homes[subject], r * np.cos(a), r * np.sin(a))
    ids = subject.astype(np.int64)
    now = np.full(n, time.time())
    return FixBatch.measured(ids, now, pos[:, 0], pos[:, 1], accuracies(n, rng), device=ids)


def _shapely_pairs(
    world: _World, batch: FixBatch
) -> tuple[NDArray[np.object_], NDArray[np.float64], NDArray[np.float64]]:
    """The same (fix, zone) pairs as shapely geometries (circles as 64-gons), prepared."""
    county = shapely.polygons(np.asarray(world.zones[0].geometry["coordinates"][0]))
    own = np.asarray(shapely.polygons(world.own_rings), dtype=object)
    k = _M_PER_DEG * np.cos(np.radians(world.circles[..., 1]))
    t = np.linspace(0, 2 * math.pi, 65)
    cx = world.circles[..., 0, None] + world.circles[..., 2, None] * np.cos(t) / k[..., None]
    cy = world.circles[..., 1, None] + world.circles[..., 2, None] * np.sin(t) / _M_PER_DEG
    circles = np.asarray(
        shapely.polygons(np.stack([cx, cy], axis=-1).reshape(-1, 65, 2)), dtype=object
    ).reshape(-1, 5)
    for g in (county, *own.tolist(), *circles.ravel().tolist()):
        shapely.prepare(g)
    s = batch.subject
    geoms = np.concatenate([own[s], circles[s].ravel(), np.full(s.shape[0], county, dtype=object)])
    lon = np.concatenate([batch.lon, np.repeat(batch.lon, 5), batch.lon])
    lat = np.concatenate([batch.lat, np.repeat(batch.lat, 5), batch.lat])
    return geoms, lon, lat


def _rebuild_after_one_change(world: _World, index: ZoneIndex) -> list[float]:
    """Seconds to build the next index when one subject's home zone was redrawn, three
    times over (the first in a process also maps the new index's memory)."""
    took = []
    for turn in range(3):
        zones = list(world.zones)
        redrawn = _ring(world.homes[0], float(world.own_phase[0]) + 0.1 * turn, _OWN_R_M, 1000)
        zones[1] = Zone(2, "home 0", {"type": "Polygon", "coordinates": [redrawn.tolist()]})
        t0 = time.perf_counter()
        index = ZoneIndex.build(zones, world.assignments, previous=index)
        took.append(time.perf_counter() - t0)
    return took


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _zone_shapes(world: _World) -> dict[int, BaseGeometry]:
    """Every zone as shapely geometry, circles as 64-gons (as shapely is measured)."""
    out: dict[int, BaseGeometry] = {}
    t = np.linspace(0, 2 * math.pi, 65)
    for z in world.zones:
        g = z.geometry
        if g["type"] != "Circle":
            out[z.id] = shapely.geometry.shape(g)
            continue
        (lon, lat), r = g["center"], g["radius_m"]
        k = _M_PER_DEG * math.cos(math.radians(lat))
        out[z.id] = Polygon(
            np.column_stack([lon + r * np.cos(t) / k, lat + r * np.sin(t) / _M_PER_DEG])
        )
    return out


def postgis_rows(
    dsn: str | None,
    shapes: dict[int, BaseGeometry],
    ev: Evaluation,
    batch: FixBatch,
    ours: float,
    batches: int,
) -> tuple[list[tuple[str, str]], NDArray[np.bool_] | None]:
    """The PostGIS lines of a table (or why there are none), and its answers."""
    if dsn is None:
        why = postgis.missing() or "left out (--no-postgis)"
        return [("PostGIS 3 ST_Covers", f"skipped: {why}")], None
    pairs = ev.fix.shape[0]
    took, inside = postgis.covers(
        dsn, shapes, ev.zone, batch.lon[ev.fix], batch.lat[ev.fix], repeat=max(1, batches // 2)
    )
    return [
        ("PostGIS 3 ST_Covers (GiST-indexed zones, one query): batch", f"{took * 1000:,.0f} ms"),
        ("PostGIS: classifications/s", f"{pairs / took:,.0f}"),
        ("ratio ccmon / PostGIS", f"{took / ours:.1f}x"),
    ], inside


def run(*, subjects: int, fixes: int, batches: int, seed: int, postgis_dsn: str | None) -> None:
    t0 = time.perf_counter()
    world = make_world(subjects, seed)
    made = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = ZoneIndex.build(world.zones, world.assignments)
    compile_s = time.perf_counter() - t0
    rebuild_s = _rebuild_after_one_change(world, index)
    rng = np.random.default_rng(seed + 1)
    batch = make_batch(world, fixes, rng)

    ev = index.evaluate(batch)
    pairs = ev.fix.shape[0]
    tracemalloc.start()
    index.evaluate(batch)
    _, eval_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    ours = best_of(lambda: index.evaluate(batch), batches)

    geoms, lon, lat = _shapely_pairs(world, batch)
    vec = best_of(lambda: shapely.contains_xy(geoms, lon, lat), batches)
    points = np.asarray(shapely.points(lon, lat), dtype=object)
    per_pair = pairs // fixes
    idx = rng.choice(geoms.shape[0], min(20_000, geoms.shape[0]), replace=False)

    def scalar_loop() -> None:
        for i in idx.tolist():
            geoms[i].contains(points[i])

    scalar = best_of(scalar_loop, 1) * (geoms.shape[0] / idx.shape[0])

    raw_vertices = sum(len(r) for r in world.own_rings) + 5001
    raw_bytes = raw_vertices * 16 + world.circles.size * 8
    compiled = index.grid.nbytes + index.circles.nbytes
    counts = np.bincount(ev.status, minlength=4)
    mib = 2**20
    memory = f"{compiled / mib:,.1f} / {raw_bytes / mib:,.1f} MiB = {compiled / raw_bytes:.2f}x"
    rows = [
        (
            "subjects / zones / assignments",
            f"{subjects:,} / {len(world.zones):,} / {len(world.assignments):,}",
        ),
        ("fixes per batch / (fix, zone) pairs", f"{fixes:,} / {pairs:,} ({per_pair} per fix)"),
        ("pairs inside / outside / uncertain", f"{counts[1]:,} / {counts[2]:,} / {counts[3]:,}"),
        (f"ccmon: batch time (best of {batches})", f"{ours * 1000:,.1f} ms"),
        ("ccmon: fix-zone classifications/s", f"{pairs / ours:,.0f}"),
        ("ccmon: fixes/s", f"{fixes / ours:,.0f}"),
        ("shapely 2 prepared contains_xy (vectorised): batch", f"{vec * 1000:,.1f} ms"),
        ("shapely 2 vectorised: classifications/s", f"{pairs / vec:,.0f}"),
        ("shapely 2 per-pair scalar loop: classifications/s", f"{pairs / scalar:,.0f}"),
        ("ratio ccmon / shapely vectorised", f"{vec / ours:.1f}x"),
        ("ratio ccmon / shapely scalar loop", f"{scalar / ours:.1f}x"),
        *postgis_rows(postgis_dsn, _zone_shapes(world), ev, batch, ours, batches)[0],
        ("compile time (all zones)", f"{compile_s:.1f} s (world generated in {made:.1f} s)"),
        (
            "rebuild after one subject's zone was redrawn: first, then",
            " / ".join(f"{t * 1000:,.0f} ms" for t in rebuild_s),
        ),
        ("compiled zones / raw vertices", memory),
        ("peak traced memory of one batch", f"{eval_peak / 2**20:,.0f} MiB"),
        ("peak process memory (world, index, baselines)", f"{_peak_rss_mib():,.0f} MiB"),
    ]
    print_table(rows)
