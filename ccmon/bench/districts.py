"""`ccmon bench geofence`'s second table: the real Chengdu and Beijing districts.

Many subjects sharing few large real polygons (thousands of vertices, parts, holes), from
`../shared/realdata` (not part of the project; the table is skipped when it is absent). Each
subject is assigned its home district and its city (inclusions) and two other districts
(exclusions); its fixes fall anywhere in its home district's bounding box, so a good share
lies near a real boundary. The coordinates are GCJ-02 as published: only the shapes matter.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import numpy as np
import shapely
from shapely.geometry import shape

from ccmon.bench.common import best_of, print_table
from ccmon.bench.geofence import accuracies, postgis_rows
from domain import Assignment, FixBatch, Zone, ZoneRole, ZoneStatus
from geofence import ZoneIndex

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray

    from geofence import Evaluation


def _zones(folder: Path) -> tuple[list[Zone], list[int]]:
    """Every outline as a zone, and each zone's city (the zone id of its city outline)."""
    zones: list[Zone] = []
    city_of: list[int] = []
    for path in sorted((folder / "boundaries" / "cnmaps-adm-data").glob("*/*.geojson")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        zones.append(Zone(len(zones) + 1, path.stem, {k: raw[k] for k in ("type", "coordinates")}))
        city_of.append(int(path.parent.name.split("_")[0]))
    ids = {z.name: z.id for z in zones}
    return zones, [ids[str(c)] for c in city_of]


def _assignments(
    zones: list[Zone], city: list[int], subjects: int, rng: np.random.Generator
) -> tuple[list[Assignment], NDArray[np.int64]]:
    """Four assignments a subject; and each subject's home district (a zone id)."""
    districts = np.array([z.id for z in zones if z.id not in city], dtype=np.int64)
    home = rng.choice(districts, subjects)
    rows: list[Assignment] = []
    for s, h in enumerate(home.tolist()):
        others = rng.choice(districts[districts != h], 2, replace=False).tolist()
        roles = [(h, ZoneRole.INCLUSION), (city[h - 1], ZoneRole.INCLUSION)]
        roles += [(o, ZoneRole.EXCLUSION) for o in others]
        rows += [Assignment(len(rows) + 1, s, z, role) for z, role in roles]
    return rows, home


def _batch(
    bounds: NDArray[np.float64], home: NDArray[np.int64], n: int, rng: np.random.Generator
) -> FixBatch:
    subject = np.sort(rng.integers(0, home.shape[0], n))
    b = bounds[home[subject] - 1]
    lon = b[:, 0] + (b[:, 2] - b[:, 0]) * rng.uniform(size=n)
    lat = b[:, 1] + (b[:, 3] - b[:, 1]) * rng.uniform(size=n)
    ids = subject.astype(np.int64)
    now = np.full(n, time.time())
    return FixBatch.measured(ids, now, lon, lat, accuracies(n, rng), device=ids)


def _disagreements(ev: Evaluation, inside: NDArray[np.bool_]) -> tuple[int, int]:
    decisive = ev.status != ZoneStatus.UNCERTAIN
    wrong = (ev.status == ZoneStatus.INSIDE) != inside
    return int(decisive.sum()), int(wrong[decisive].sum())


def run(
    folder: Path, *, subjects: int, fixes: int, batches: int, seed: int, postgis_dsn: str | None
) -> None:
    if not (folder / "boundaries" / "cnmaps-adm-data").is_dir():
        print(f"real districts: skipped, no real data at {folder} (--realdata PATH)")
        return
    rng = np.random.default_rng(seed)
    zones, city = _zones(folder)
    assignments, home = _assignments(zones, city, subjects, rng)
    t0 = time.perf_counter()
    index = ZoneIndex.build(zones, assignments)
    compile_s = time.perf_counter() - t0
    geoms = np.array([shape(z.geometry) for z in zones], dtype=object)
    batch = _batch(shapely.bounds(geoms), home, fixes, rng)

    ev = index.evaluate(batch)
    ours = best_of(lambda: index.evaluate(batch), batches)
    shapely.prepare(geoms)
    pair_geoms = geoms[ev.zone - 1]
    lon, lat = batch.lon[ev.fix], batch.lat[ev.fix]
    theirs = best_of(lambda: shapely.contains_xy(pair_geoms, lon, lat), batches)
    decisive, wrong = _disagreements(ev, shapely.contains_xy(pair_geoms, lon, lat))

    peer, covered = postgis_rows(
        postgis_dsn, {z.id: g for z, g in zip(zones, geoms, strict=True)}, ev, batch, ours, batches
    )
    if covered is not None:
        decisive_pg, wrong_pg = _disagreements(ev, covered)
        peer.append(("decisive pairs disagreeing with PostGIS", f"{wrong_pg:,} of {decisive_pg:,}"))
    pairs = ev.fix.shape[0]
    vertices = int(shapely.get_num_coordinates(geoms).sum())
    inside, outside, uncertain = np.bincount(ev.status, minlength=4)[1:].tolist()
    print("real districts (Chengdu and Beijing, ../shared/realdata):")
    print_table(
        [
            ("zones / vertices", f"{len(zones)} / {vertices:,}"),
            ("subjects / assignments", f"{subjects:,} / {len(assignments):,}"),
            ("fixes per batch / (fix, zone) pairs", f"{fixes:,} / {pairs:,}"),
            ("pairs inside / outside / uncertain", f"{inside:,} / {outside:,} / {uncertain:,}"),
            (f"ccmon: batch time (best of {batches})", f"{ours * 1000:,.1f} ms"),
            ("ccmon: fix-zone classifications/s", f"{pairs / ours:,.0f}"),
            ("shapely 2 prepared contains_xy (vectorised): batch", f"{theirs * 1000:,.1f} ms"),
            ("shapely 2 vectorised: classifications/s", f"{pairs / theirs:,.0f}"),
            ("ratio ccmon / shapely vectorised", f"{theirs / ours:.2f}x"),
            ("decisive pairs / disagreeing with shapely", f"{decisive:,} / {wrong:,}"),
            *peer,
            ("compile time (all zones)", f"{compile_s:.2f} s"),
        ]
    )
