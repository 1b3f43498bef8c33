"""The polygon pass compiled (numba): each (fix, zone) pair decided in one loop over the
grid, with no pair arrays in between. Same decisions as the grid's design (geofence/grid.py):
a cell's clearance decides most pairs; a cell the boundary crosses is decided against its
own edges; an accuracy circle reaching past the cell against the cells around; the rest
against every edge of the zone. Compiled once per machine (`cache=True`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numba
import numpy as np

from domain import ZoneStatus

if TYPE_CHECKING:
    from numpy.typing import NDArray

    F64 = NDArray[np.float64]
    I64 = NDArray[np.int64]
    I32 = NDArray[np.int32]
    Bool = NDArray[np.bool_]

_INSIDE, _OUTSIDE, _UNCERTAIN = (
    int(ZoneStatus.INSIDE),
    int(ZoneStatus.OUTSIDE),
    int(ZoneStatus.UNCERTAIN),
)


@numba.njit(cache=True, inline="always")
def _segment_distance(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    t = ((px - ax) * dx + (py - ay) * dy) / (len2 if len2 != 0 else 1.0)
    t = min(max(t, 0.0), 1.0)
    ex, ey = ax + t * dx - px, ay + t * dy - py
    return math.sqrt(ex * ex + ey * ey)


@numba.njit(cache=True, inline="always")
def _orient(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> float:
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)


@numba.njit(cache=True)
def _every_edge(
    first: int, last: int, edge_ok: Bool, vx: F64, vy: F64, px: float, py: float
) -> tuple[bool, float]:
    """(inside by the even-odd ray cast, distance to the nearest edge) over every edge of a
    zone: vertices first..last."""
    hits, best = 0, np.inf
    for v in range(first, last - 1):
        if not edge_ok[v]:
            continue
        ax, ay, bx, by = vx[v], vy[v], vx[v + 1], vy[v + 1]
        if (ay > py) != (by > py) and px < ax + (py - ay) * (bx - ax) / (by - ay):
            hits += 1
        best = min(best, _segment_distance(px, py, ax, ay, bx, by))
    return hits % 2 == 1, best


@numba.njit(cache=True)
def _cell_edges(
    cell: int, ptr: I64, edges: I32, vx: F64, vy: F64, rx: float, ry: float, px: float, py: float
) -> tuple[bool, float]:
    """(edges between the reference point and the fix: odd?, distance to the nearest edge of
    the cell)."""
    flips, best = 0, np.inf
    for j in range(ptr[cell], ptr[cell + 1]):
        e = edges[j]
        ax, ay, bx, by = vx[e], vy[e], vx[e + 1], vy[e + 1]
        if ((_orient(rx, ry, px, py, ax, ay) > 0) != (_orient(rx, ry, px, py, bx, by) > 0)) and (
            (_orient(ax, ay, bx, by, rx, ry) > 0) != (_orient(ax, ay, bx, by, px, py) > 0)
        ):
            flips += 1
        best = min(best, _segment_distance(px, py, ax, ay, bx, by))
    return flips % 2 == 1, best


@numba.njit(cache=True)
def _block(
    base: int,
    nx: int,
    ny: int,
    ix: int,
    iy: int,
    k: int,
    ptr: I64,
    edges: I32,
    vx: F64,
    vy: F64,
    px: float,
    py: float,
) -> float:
    """Distance to the nearest edge in the (2k+1)^2 cells around cell (ix, iy) (inf if none)."""
    best = np.inf
    for cy in range(max(iy - k, 0), min(iy + k + 1, ny)):
        for cx in range(max(ix - k, 0), min(ix + k + 1, nx)):
            cell = base + cy * nx + cx
            for j in range(ptr[cell], ptr[cell + 1]):
                e = edges[j]
                best = min(best, _segment_distance(px, py, vx[e], vy[e], vx[e + 1], vy[e + 1]))
    return best


@numba.njit(cache=True, inline="always")
def _by_distance(inside: bool, dist: float, reach: float) -> int:
    if dist <= reach:
        return _UNCERTAIN
    return _INSIDE if inside else _OUTSIDE


@numba.njit(cache=True)
def polygon_status(
    zone: I64,
    x: F64,
    y: F64,
    reach: F64,
    x0: F64,
    y0: F64,
    cw: F64,
    ch: F64,
    diagonal: F64,
    nx: I64,
    ny: I64,
    cell_base: I64,
    vert_base: I64,
    vert_end: I64,
    cell_inside: Bool,
    cell_gap: NDArray[np.float32],
    cell_ptr: I64,
    cell_edges: I32,
    vx: F64,
    vy: F64,
    edge_ok: Bool,
    ref_fx: float,
    ref_fy: float,
    max_block: int,
) -> NDArray[np.int8]:
    """Status of each (zone row, x, y, reach) pair; the rest are the grid's arrays."""
    n = zone.shape[0]
    out = np.empty(n, dtype=np.int8)
    for i in range(n):
        z, px, py, r = zone[i], x[i], y[i], reach[i]
        gx, gy = (px - x0[z]) / cw[z], (py - y0[z]) / ch[z]
        if not (gx >= 0 and gy >= 0 and gx < nx[z] and gy < ny[z]):
            dx = max(-gx, gx - nx[z], 0.0) * cw[z]
            dy = max(-gy, gy - ny[z], 0.0) * ch[z]
            if math.hypot(dx, dy) > r:
                out[i] = _OUTSIDE
            else:
                side, d = _every_edge(vert_base[z], vert_end[z], edge_ok, vx, vy, px, py)
                out[i] = _by_distance(side, d, r)
            continue
        ix, iy = int(gx), int(gy)
        cell = cell_base[z] + iy * nx[z] + ix
        gap, diag, inside = cell_gap[cell], diagonal[z], cell_inside[cell]
        if gap - diag > r:
            out[i] = _INSIDE if inside else _OUTSIDE
            continue
        if gap >= 0 and gap + diag <= r:
            out[i] = _UNCERTAIN
            continue
        if gap < 0:
            rx = x0[z] + (ix + ref_fx) * cw[z]
            ry = y0[z] + (iy + ref_fy) * ch[z]
            flipped, d = _cell_edges(cell, cell_ptr, cell_edges, vx, vy, rx, ry, px, py)
            inside = inside != flipped
            fx, fy = gx - ix, gy - iy
            border = min(min(fx, 1 - fx) * cw[z], min(fy, 1 - fy) * ch[z])
            if d <= r or border > r:
                out[i] = _by_distance(inside, d, r)
                continue
        k = math.ceil(r / min(cw[z], ch[z]))
        if k <= max_block:
            d = _block(cell_base[z], nx[z], ny[z], ix, iy, k, cell_ptr, cell_edges, vx, vy, px, py)
            out[i] = _by_distance(inside, d, r)
        else:
            side, d = _every_edge(vert_base[z], vert_end[z], edge_ok, vx, vy, px, py)
            out[i] = _by_distance(side, d, r)
    return out


@numba.njit(cache=True)
def circle_status(
    row: I64,
    lon: F64,
    lat: F64,
    reach: F64,
    lon0: F64,
    lat0: F64,
    kx: F64,
    radius: F64,
    m_per_deg: float,
) -> NDArray[np.int8]:
    """Status of each (circle row, lon, lat, reach) pair: the distance from the edge, in the
    circle's plane, against the reach."""
    out = np.empty(row.shape[0], dtype=np.int8)
    for i in range(row.shape[0]):
        c = row[i]
        dx, dy = (lon[i] - lon0[c]) * kx[c], (lat[i] - lat0[c]) * m_per_deg
        gap = math.sqrt(dx * dx + dy * dy) - radius[c]
        out[i] = _UNCERTAIN if abs(gap) <= reach[i] else (_INSIDE if gap < 0 else _OUTSIDE)
    return out
