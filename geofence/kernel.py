"""The evaluation compiled (numba): every (fix, zone) pair of a batch decided in one loop,
with no pair arrays in between. Compiled once per machine (`cache=True`).

Polygons (geofence/grid.py): a cell's clearance decides most pairs; a cell the boundary
crosses is decided against its own edges; an accuracy circle reaching past the cell against
the cells it reaches; the rest against every edge of the zone.

Distances are metres on the sphere, the boundary's edges straight in lon/lat (as shapely and
PostGIS draw them). The zone's plane is only its index: distances near a fix are measured with
the fix's own metres per degree of longitude, within a known bound (geofence/sphere.py); where
that bound leaves the answer open (a fix within it of its reach), the pair is decided by the
exact distance on the sphere.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numba
import numpy as np

from domain import ZoneStatus
from geofence.grid import (
    CELL_BASE,
    CH,
    CW,
    DIAGONAL,
    KX,
    LAT0,
    LON0,
    M_PER_DEG,
    NX,
    NY,
    VERT_BASE,
    VERT_END,
    X0,
    Y0,
    PolygonGrid,
)
from geofence.raster import REF_FX, REF_FY
from geofence.sphere import error_bound, haversine, sphere_segment

if TYPE_CHECKING:
    from numpy.typing import NDArray

    F64 = NDArray[np.float64]
    I64 = NDArray[np.int64]

# No position resolves a millimetre: a fix this close to the boundary is on it, whatever
# floating point says about which side.
BOUNDARY_TOLERANCE_M = 0.001
# Accuracy circles reaching up to this many cells are checked against the cells they reach
# (an empty cell costs nanoseconds); wider ones against every edge of the zone.
MAX_BLOCK_CELLS = 33 * 33
# Circles: columns of the (n, 4) array of circle zones.
C_LON, C_LAT, C_COSLAT, C_RADIUS = range(4)

_INSIDE, _OUTSIDE, _UNCERTAIN = (
    int(ZoneStatus.INSIDE),
    int(ZoneStatus.OUTSIDE),
    int(ZoneStatus.UNCERTAIN),
)
_OPEN = -1
# A fix's e1, e2 (its distance error bound e1 d^2 + e2 d^3) and cos(lat): passed by value.
Terms = tuple[float, float, float]
_POLYGON = 0


@numba.njit(cache=True, error_model="numpy", inline="always")
def _segment(px: float, py: float, s: float, ax: float, ay: float, bx: float, by: float) -> float:
    """Distance from (px, py) to the segment a-b, east-west differences scaled by s."""
    ax, bx, ay, by = (ax - px) * s, (bx - px) * s, ay - py, by - py
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    t = -(ax * dx + ay * dy) / (len2 if len2 != 0 else 1.0)
    t = min(max(t, 0.0), 1.0)
    ex, ey = ax + t * dx, ay + t * dy
    return math.sqrt(ex * ex + ey * ey)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _orient(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> float:
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _every_edge(g: PolygonGrid, z: int, px: float, py: float, s: float) -> tuple[bool, float]:
    """(inside by the even-odd ray cast, distance to the nearest edge) over every edge."""
    hits, best = 0, np.inf
    vx, vy, edge_ok = g.vx, g.vy, g.edge_ok
    for v in range(g.zi[z, VERT_BASE], g.zi[z, VERT_END] - 1):
        if not edge_ok[v]:
            continue
        ax, ay, bx, by = vx[v], vy[v], vx[v + 1], vy[v + 1]
        if (ay > py) != (by > py) and px < ax + (py - ay) * (bx - ax) / (by - ay):
            hits += 1
        best = min(best, _segment(px, py, s, ax, ay, bx, by))
    return hits % 2 == 1, best


@numba.njit(cache=True, error_model="numpy")
def _sphere_distance(
    g: PolygonGrid, z: int, lon: float, lat: float, px: float, py: float, s: float, e: Terms
) -> float:
    """Distance on the sphere to the zone's boundary: every edge the local measure cannot
    rule out is measured exactly."""
    _, near = _every_edge(g, z, px, py, s)
    limit = near + error_bound(near, e[0], e[1])
    kx, lon0, lat0 = g.zf[z, KX], g.zf[z, LON0], g.zf[z, LAT0]
    vx, vy, edge_ok = g.vx, g.vy, g.edge_ok
    best = np.inf
    for v in range(g.zi[z, VERT_BASE], g.zi[z, VERT_END] - 1):
        if not edge_ok[v]:
            continue
        d = _segment(px, py, s, vx[v], vy[v], vx[v + 1], vy[v + 1])
        if d - error_bound(d, e[0], e[1]) <= min(limit, best):
            alon, alat = lon0 + vx[v] / kx, lat0 + vy[v] / M_PER_DEG
            blon, blat = lon0 + vx[v + 1] / kx, lat0 + vy[v + 1] / M_PER_DEG
            best = min(best, sphere_segment(lon, lat, alon, alat, blon, blat))
    return best


@numba.njit(cache=True, error_model="numpy", inline="always")
def _apart(lo1: float, hi1: float, a: float, b: float, margin: float) -> bool:
    """Is the span a..b (either order) more than `margin` away from lo1..hi1?"""
    return min(a, b) > hi1 + margin or max(a, b) < lo1 - margin


@numba.njit(cache=True, error_model="numpy", inline="always")
def _cell_edges(
    g: PolygonGrid,
    cell: int,
    rx: float,
    ry: float,
    px: float,
    py: float,
    s: float,
    reach: float,
) -> tuple[bool, float]:
    """(edges between the reference point and the fix: odd?, distance to the nearest edge of
    the cell within `reach` plane metres, inf if none). Bounding boxes first: most edges of a
    cell are neither near the fix nor across the way from the reference point."""
    flips, best = 0, np.inf
    vx, vy, edges = g.vx, g.vy, g.cell_edges
    xlo, xhi, ylo, yhi = min(rx, px), max(rx, px), min(ry, py), max(ry, py)
    for j in range(g.cell_ptr[cell], g.cell_ptr[cell + 1]):
        e = edges[j]
        ax, ay, bx, by = vx[e], vy[e], vx[e + 1], vy[e + 1]
        if not (_apart(xlo, xhi, ax, bx, 0.0) or _apart(ylo, yhi, ay, by, 0.0)) and (
            ((_orient(rx, ry, px, py, ax, ay) > 0) != (_orient(rx, ry, px, py, bx, by) > 0))
            and ((_orient(ax, ay, bx, by, rx, ry) > 0) != (_orient(ax, ay, bx, by, px, py) > 0))
        ):
            flips += 1
        if not (_apart(px, px, ax, bx, reach) or _apart(py, py, ay, by, reach)):
            best = min(best, _segment(px, py, s, ax, ay, bx, by))
    return flips % 2 == 1, best


@numba.njit(cache=True, error_model="numpy", inline="always")
def _cells_around(
    g: PolygonGrid,
    z: int,
    ix: tuple[int, int],
    iy: tuple[int, int],
    px: float,
    py: float,
    s: float,
    reach: float,
) -> float:
    """Distance to the nearest edge in the cells ix[0]..ix[1] x iy[0]..iy[1] within `reach`
    (plane metres) of the fix (inf if none)."""
    x0, y0, cw, ch = g.zf[z, X0], g.zf[z, Y0], g.zf[z, CW], g.zf[z, CH]
    base, nx = g.zi[z, CELL_BASE], g.zi[z, NX]
    vx, vy, ptr, edges = g.vx, g.vy, g.cell_ptr, g.cell_edges
    best = np.inf
    for cy in range(iy[0], iy[1] + 1):
        dy = max(y0 + cy * ch - py, py - (y0 + (cy + 1) * ch), 0.0)
        for cx in range(ix[0], ix[1] + 1):
            dx = max(x0 + cx * cw - px, px - (x0 + (cx + 1) * cw), 0.0)
            if dx * dx + dy * dy > reach * reach:
                continue
            cell = base + cy * nx + cx
            for j in range(ptr[cell], ptr[cell + 1]):
                e = edges[j]
                ax, ay, bx, by = vx[e], vy[e], vx[e + 1], vy[e + 1]
                if not (_apart(px, px, ax, bx, reach) or _apart(py, py, ay, by, reach)):
                    best = min(best, _segment(px, py, s, ax, ay, bx, by))
    return best


@numba.njit(cache=True, error_model="numpy", inline="always")
def _side(inside: bool) -> int:
    return _INSIDE if inside else _OUTSIDE


@numba.njit(cache=True, error_model="numpy", inline="always")
def _by_distance(inside: bool, d: float, r: float, e: Terms) -> int:
    """Status from a locally measured distance, or _OPEN where its error bound straddles r."""
    if d == np.inf:
        return _side(inside)
    err = error_bound(d, e[0], e[1])
    if d - err > r:
        return _side(inside)
    if d + err <= r:
        return _UNCERTAIN
    return _OPEN


@numba.njit(cache=True, error_model="numpy", inline="always")
def _to_border(gx: float, gy: float, cw: float, ch: float) -> float:
    """Plane metres from a fix at grid position gx, gy to its cell's border."""
    fx, fy = gx - int(gx), gy - int(gy)
    return min(min(fx, 1 - fx) * cw, min(fy, 1 - fy) * ch)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _clearance(gap: float, diag: float, gx: float, gy: float, cw: float, ch: float) -> float:
    """Plane metres from a fix at grid position gx, gy in a cell no edge crosses to the
    nearest edge, at least: the cell's clearance, or the way to the cell's own border."""
    return max(gap - diag, _to_border(gx, gy, cw, ch))


@numba.njit(cache=True, error_model="numpy", inline="always")
def _plane_reach(r: float, s: float, e: Terms) -> float:
    """Plane metres (either axis) beyond which no point is within r of the fix."""
    return (r + 2 * error_bound(r, e[0], e[1])) / min(s, 1.0)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _in_cell(
    g: PolygonGrid, z: int, gx: float, gy: float, px: float, py: float, s: float, r: float, e: Terms
) -> tuple[int, bool, float, bool]:
    """What the fix's cell tells: (status or _OPEN, side, distance to the nearest edge known,
    whether edges beyond the cell may be within reach)."""
    zf = g.zf
    ix, iy = int(gx), int(gy)
    cell = g.zi[z, CELL_BASE] + iy * g.zi[z, NX] + ix
    gap, diag, inside = g.cell_gap[cell], zf[z, DIAGONAL], g.cell_inside[cell]
    slo = min(s, 1.0)
    if gap >= 0:
        clear = slo * _clearance(gap, diag, gx, gy, zf[z, CW], zf[z, CH])
        if clear - error_bound(clear, e[0], e[1]) > r:
            return _side(inside), inside, np.inf, False
        far = max(s, 1.0) * (gap + diag)
        if far + error_bound(far, e[0], e[1]) <= r:
            return _UNCERTAIN, inside, np.inf, False
        return _OPEN, inside, np.inf, True
    cw, ch = zf[z, CW], zf[z, CH]
    rx, ry = zf[z, X0] + (ix + REF_FX) * cw, zf[z, Y0] + (iy + REF_FY) * ch
    flipped, d = _cell_edges(g, cell, rx, ry, px, py, s, _plane_reach(r, s, e))
    inside = inside != flipped
    if d + error_bound(d, e[0], e[1]) <= r:
        return _UNCERTAIN, inside, d, False
    border = slo * _to_border(gx, gy, cw, ch)
    return _OPEN, inside, d, border - error_bound(border, e[0], e[1]) <= r


@numba.njit(cache=True, error_model="numpy", inline="always")
def _around(
    g: PolygonGrid, z: int, gx: float, gy: float, px: float, py: float, s: float, r: float, e: Terms
) -> tuple[bool, float, bool]:
    """Distance to the nearest edge within reach in the cells around (side unknown: False),
    or over every edge when too many cells are reached (side known: True)."""
    cw, ch = g.zf[z, CW], g.zf[z, CH]
    nx, ny = g.zi[z, NX], g.zi[z, NY]
    reach = _plane_reach(r, s, e)
    ix0, ix1 = max(int((gx * cw - reach) / cw), 0), min(int((gx * cw + reach) / cw), nx - 1)
    iy0, iy1 = max(int((gy * ch - reach) / ch), 0), min(int((gy * ch + reach) / ch), ny - 1)
    if (ix1 - ix0 + 1) * (iy1 - iy0 + 1) <= MAX_BLOCK_CELLS:
        return False, _cells_around(g, z, (ix0, ix1), (iy0, iy1), px, py, s, reach), False
    inside, d = _every_edge(g, z, px, py, s)
    return inside, d, True


@numba.njit(cache=True, error_model="numpy", inline="always")
def _polygon(g: PolygonGrid, z: int, lon: float, lat: float, r: float, e: Terms) -> int:
    """Status of one fix (reach r, error terms e) against polygon row z."""
    zf, zi = g.zf, g.zi
    kx = zf[z, KX]
    px, py = (lon - zf[z, LON0]) * kx, (lat - zf[z, LAT0]) * M_PER_DEG
    s = e[2] * M_PER_DEG / kx
    cw, ch = zf[z, CW], zf[z, CH]
    gx, gy = (px - zf[z, X0]) / cw, (py - zf[z, Y0]) / ch
    nx, ny = zi[z, NX], zi[z, NY]
    if gx >= 0 and gy >= 0 and gx < nx and gy < ny:
        status, inside, d, search = _in_cell(g, z, gx, gy, px, py, s, r, e)
        if status != _OPEN:
            return status
        if search:
            side, near, known = _around(g, z, gx, gy, px, py, s, r, e)
            inside, d = (side, near) if known else (inside, min(d, near))
    else:
        clear = min(s, 1.0) * math.hypot(max(-gx, gx - nx, 0.0) * cw, max(-gy, gy - ny, 0.0) * ch)
        if clear - error_bound(clear, e[0], e[1]) > r:
            return _OUTSIDE
        inside, d = _every_edge(g, z, px, py, s)
    status = _by_distance(inside, d, r, e)
    if status != _OPEN:
        return status
    return _exactly(g, z, lon, lat, px, py, s, inside, r, e)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _exactly(
    g: PolygonGrid,
    z: int,
    lon: float,
    lat: float,
    px: float,
    py: float,
    s: float,
    inside: bool,
    r: float,
    e: Terms,
) -> int:
    if _sphere_distance(g, z, lon, lat, px, py, s, e) <= r:
        return _UNCERTAIN
    return _side(inside)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _circle(
    circle: tuple[float, float, float, float], lon: float, lat: float, r: float, e: Terms
) -> int:
    """Status against a circle (lon, lat, cos(lat), radius): its centre's distance measured
    locally (with the mean of both latitudes' scales), on the sphere where that is too close
    to call."""
    clon, clat, ccos, radius = circle
    dx = (lon - clon) * M_PER_DEG * 0.5 * (e[2] + ccos)
    dy = (lat - clat) * M_PER_DEG
    centre = math.sqrt(dx * dx + dy * dy)
    gap = centre - radius
    if abs(abs(gap) - r) <= e[1] * centre * centre * centre:
        gap = haversine(lon, lat, clon, clat) - radius
    # Selects, not branches: which of the three a fix is cannot be predicted.
    return _UNCERTAIN if abs(gap) <= r else (_INSIDE if gap < 0 else _OUTSIDE)


@numba.njit(cache=True, error_model="numpy")
def classify(
    visit: I64,
    lo: I64,
    hi: I64,
    kind: NDArray[np.int8],
    row: I64,
    lon: F64,
    lat: F64,
    accuracy: F64,
    terms: F64,
    grid: PolygonGrid,
    circles: F64,
) -> tuple[I64, I64, NDArray[np.int8]]:
    """(fix, assignment row, status) for every fix f and each of its assignment rows
    lo[f]..hi[f], in fix order, fixes visited in the order `visit`: kind and row give each
    assignment's zone (its row among polygons or circles); terms[f] = fix f's (e1, e2,
    cos(lat)).

    The common cases are written out in this loop: a helper taking arrays costs reference
    counting on every call, more than a cell lookup."""
    start = np.empty(lo.shape[0] + 1, np.int64)
    start[0] = 0
    for f in range(lo.shape[0]):
        start[f + 1] = start[f] + hi[f] - lo[f]
    n = start[-1]
    fix, arow, out = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int8)
    zf, zi, c, gaps, sides = grid.zf, grid.zi, circles, grid.cell_gap, grid.cell_inside
    for f in visit:
        i = start[f]
        x, y, r = lon[f], lat[f], accuracy[f] + BOUNDARY_TOLERANCE_M
        e = (terms[f, 0], terms[f, 1], terms[f, 2])
        for a in range(lo[f], hi[f]):
            fix[i], arow[i] = f, a
            z = row[a]
            if kind[a] != _POLYGON:
                out[i] = _circle((c[z, 0], c[z, 1], c[z, 2], c[z, 3]), x, y, r, e)
                i += 1
                continue
            kx = zf[z, KX]
            slo = min(e[2] * M_PER_DEG / kx, 1.0)
            gx = ((x - zf[z, LON0]) * kx - zf[z, X0]) / zf[z, CW]
            gy = ((y - zf[z, LAT0]) * M_PER_DEG - zf[z, Y0]) / zf[z, CH]
            nx, ny = zi[z, NX], zi[z, NY]
            if gx >= 0 and gy >= 0 and gx < nx and gy < ny:
                cell = zi[z, CELL_BASE] + int(gy) * nx + int(gx)
                gap = gaps[cell]
                clear = slo * _clearance(gap, zf[z, DIAGONAL], gx, gy, zf[z, CW], zf[z, CH])
                sure = gap >= 0 and clear - error_bound(clear, e[0], e[1]) > r
                out[i] = (_INSIDE if sides[cell] else _OUTSIDE) if sure else _OPEN
            else:
                dx, dy = max(-gx, gx - nx, 0.0) * zf[z, CW], max(-gy, gy - ny, 0.0) * zf[z, CH]
                clear = slo * math.sqrt(dx * dx + dy * dy)
                out[i] = _OUTSIDE if clear - error_bound(clear, e[0], e[1]) > r else _OPEN
            if out[i] == _OPEN:
                out[i] = _polygon(grid, z, x, y, r, e)
            i += 1
    return fix, arow, out


@numba.njit(cache=True, error_model="numpy")
def boundary_distance(
    kind: NDArray[np.int8],
    row: I64,
    lon: F64,
    lat: F64,
    terms: F64,
    grid: PolygonGrid,
    circles: F64,
) -> F64:
    """Distance on the sphere from each (zone, lon, lat) to the zone's boundary."""
    out = np.empty(kind.shape[0])
    for i in range(kind.shape[0]):
        z, e = row[i], (terms[i, 0], terms[i, 1], terms[i, 2])
        if kind[i] == _POLYGON:
            kx = grid.zf[z, KX]
            px = (lon[i] - grid.zf[z, LON0]) * kx
            py = (lat[i] - grid.zf[z, LAT0]) * M_PER_DEG
            out[i] = _sphere_distance(grid, z, lon[i], lat[i], px, py, e[2] * M_PER_DEG / kx, e)
        else:
            centre = haversine(lon[i], lat[i], circles[z, C_LON], circles[z, C_LAT])
            out[i] = abs(centre - circles[z, C_RADIUS])
    return out
