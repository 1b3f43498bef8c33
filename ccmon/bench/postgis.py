"""The peer a user would pick instead of ccmon's geofence: PostGIS `ST_Covers`, the same
(zone, fix) pairs, in a throw-away PostgreSQL 15 cluster on loopback (planar, as the
zones are drawn: the same geometry as shapely's).

Needs Debian's `postgresql-15` and `postgresql-15-postgis-3` (`apt-get install
postgresql-15-postgis-3`); without them the benchmark says so and goes on.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import psycopg
import shapely

from ccmon.bench.common import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from numpy.typing import NDArray
    from shapely.geometry.base import BaseGeometry

_BIN = Path("/usr/lib/postgresql/15/bin")
_POSTGIS = Path("/usr/share/postgresql/15/extension/postgis.control")


def missing() -> str | None:
    """Why PostGIS cannot be measured here, or None."""
    if not (_BIN / "postgres").exists():
        return "no PostgreSQL 15 server (apt-get install postgresql-15-postgis-3)"
    if not _POSTGIS.exists():
        return "no PostGIS for PostgreSQL 15 (apt-get install postgresql-15-postgis-3)"
    return None


def _run(args: list[str]) -> None:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` account."""
    owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    # no pipes: the server pg_ctl starts would hold them open
    subprocess.run([*owner, *args], check=True, stdout=subprocess.DEVNULL)  # noqa: S603


@contextlib.contextmanager
def cluster() -> Iterator[str]:
    """A fresh PostgreSQL 15 cluster with PostGIS, on a free loopback port; yields its DSN
    and removes it afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="ccmon-postgis-"))
    data, port = folder / "data", free_port()
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    try:
        initdb = [str(_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
        _run(initdb)
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(folder / "server.log")
        start = [str(_BIN / "pg_ctl"), "-D", str(data), "-l", log, "-w", "-o", options, "start"]
        _run(start)
        try:
            dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION postgis")
            yield dsn
        finally:
            stop = [str(_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
            _run(stop)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def covers(
    dsn: str,
    shapes: Mapping[int, BaseGeometry],
    zone: NDArray[np.int64],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    repeat: int,
) -> tuple[float, NDArray[np.bool_]]:
    """(best seconds of `repeat`, covered?) for each (zone id, lon, lat) pair: one query
    over a table of the pairs joined to a GiST-indexed zone table, counted on the server,
    the pairs stored in zone order (so that PostGIS prepares each zone once: its best
    case)."""
    order = np.argsort(zone, kind="stable")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS zones, pairs")
        conn.execute("CREATE TABLE zones (id bigint PRIMARY KEY, geom geometry)")
        with conn.cursor().copy("COPY zones (id, geom) FROM STDIN") as copy:
            for zone_id, geom in shapes.items():
                copy.write_row((zone_id, shapely.to_wkb(geom, hex=True)))
        conn.execute("CREATE INDEX ON zones USING gist (geom)")
        conn.execute("CREATE TABLE pairs (k bigint, zone bigint, pt geometry)")
        with conn.cursor().copy("COPY pairs (k, zone, pt) FROM STDIN") as copy:
            points = shapely.to_wkb(shapely.points(lon[order], lat[order]), hex=True)
            for k, z, p in zip(order.tolist(), zone[order].tolist(), points, strict=True):
                copy.write_row((k, z, p))
        conn.execute("VACUUM ANALYZE zones")
        conn.execute("VACUUM ANALYZE pairs")
        join = "FROM pairs p JOIN zones z ON z.id = p.zone"
        best = float("inf")
        for _ in range(repeat):  # timed on the server: a count, no rows to the client
            t0 = time.perf_counter()
            conn.execute(f"SELECT count(*) FILTER (WHERE ST_Covers(z.geom, p.pt)) {join}")
            best = min(best, time.perf_counter() - t0)
        rows = conn.execute(f"SELECT p.k, ST_Covers(z.geom, p.pt) {join}").fetchall()
    inside = np.zeros(zone.shape[0], dtype=np.bool_)
    k = np.array([r[0] for r in rows], dtype=np.int64)
    inside[k] = [r[1] for r in rows]
    return best, inside
