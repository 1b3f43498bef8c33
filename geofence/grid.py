"""Polygon zones compiled into one grid index (evaluated by geofence/kernel.py).

Each zone's bounding box (in its local metric plane) is cut into about as many cells as it has
edges. A cell knows the edges that touch it, whether a reference point inside it is inside
the zone, and (for cells no edge touches) a lower bound on the distance from anywhere in the
cell to the boundary. Most fixes are then decided by one cell lookup; fixes in a cell the
boundary crosses are decided against that cell's few edges; the rest (accuracy circle wider
than the known clearance) against the cells around, else every edge of the zone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

if TYPE_CHECKING:
    from collections.abc import Sequence

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Bool = NDArray[np.bool_]

EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG = EARTH_RADIUS_M * math.pi / 180.0
# Where in its cell the reference point sits (fractions of the cell): off-centre, so that
# regular shapes (grids, symmetric polygons) do not pass an edge through it.
REF_FX, REF_FY = 0.6180339887, 0.5772156649
_MAX_CELLS_PER_AXIS = 1024

# Columns of PolygonGrid.zf (per zone, float) and .zi (per zone, int): a zone's parameters
# side by side, so that a pair's lookup touches one or two cache lines, not ten arrays.
LON0, LAT0, KX, X0, Y0, CW, CH, DIAGONAL = range(8)
NX, NY, CELL_BASE, VERT_BASE, VERT_END = range(5)


@dataclass(frozen=True, slots=True)
class Rings:
    """One zone's rings in its local plane: closed rings concatenated (first vertex repeated
    at the end of each), metres east / north of the zone's origin."""

    x: F64
    y: F64
    ring_end: I64  # index of each ring's closing vertex


class PolygonGrid(NamedTuple):
    """All polygon zones; zone row i is zf[i], zi[i]. A named tuple of arrays, so that the
    compiled kernels take it as it is."""

    # LON0, LAT0: the plane's origin; KX: metres per degree of longitude there; X0, Y0: the
    # grid's corner in the plane; CW, CH: a cell's width and height; DIAGONAL: of a cell.
    zf: NDArray[np.float64]
    zi: NDArray[np.int64]  # NX, NY: cells per axis; CELL_BASE; VERT_BASE .. VERT_END
    cell_inside: Bool  # is the cell's reference point inside the zone
    # -1 where the boundary crosses the cell; else the distance from the cell's centre to the
    # nearest crossed cell's centre: the boundary is then between gap - diagonal and
    # gap + diagonal away from anywhere in the cell.
    cell_gap: NDArray[np.float32]
    cell_ptr: I64  # CSR: edges of cell c are cell_edges[cell_ptr[c]:cell_ptr[c + 1]]
    cell_edges: NDArray[np.int32]  # an edge is its first vertex's index into vx, vy
    vx: F64
    vy: F64
    edge_ok: Bool  # False where vertex i is a ring's last (no edge i -> i + 1)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self)


def _grid_shape(n_edges: int, w: float, h: float) -> tuple[int, int]:
    aspect = w / h
    nx = int(np.clip(np.ceil(np.sqrt(n_edges * aspect)), 1, _MAX_CELLS_PER_AXIS))
    ny = int(np.clip(np.ceil(np.sqrt(n_edges / aspect)), 1, _MAX_CELLS_PER_AXIS))
    return nx, ny


def _segment_distance(px: F64, py: F64, ax: F64, ay: F64, bx: F64, by: F64) -> F64:
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / np.where(len2 == 0, 1.0, len2), 0.0, 1.0)
    ex, ey = ax + t * dx - px, ay + t * dy - py
    return np.sqrt(ex * ex + ey * ey)


@dataclass(frozen=True, slots=True)
class _ZoneCells:
    nx: int
    ny: int
    x0: float
    y0: float
    cw: float
    ch: float
    inside: Bool
    gap: NDArray[np.float32]
    ptr: I64
    edges: I64  # local vertex indices


def _edge_cells(rings: Rings, g: tuple[int, int, float, float, float, float]) -> tuple[I64, I64]:
    """(cell, edge) for every cell an edge may touch: the cells of its bounding box, kept
    where the cell centre is within half a cell diagonal of the edge."""
    nx, ny, x0, y0, cw, ch = g
    edge = np.flatnonzero(np.ones(rings.x.shape[0] - 1, dtype=np.bool_))
    edge = np.setdiff1d(edge, rings.ring_end[:-1], assume_unique=True)
    ax, ay, bx, by = rings.x[edge], rings.y[edge], rings.x[edge + 1], rings.y[edge + 1]
    ix0 = np.clip(np.floor((np.minimum(ax, bx) - x0) / cw), 0, nx - 1).astype(np.int64)
    ix1 = np.clip(np.floor((np.maximum(ax, bx) - x0) / cw), 0, nx - 1).astype(np.int64)
    iy0 = np.clip(np.floor((np.minimum(ay, by) - y0) / ch), 0, ny - 1).astype(np.int64)
    iy1 = np.clip(np.floor((np.maximum(ay, by) - y0) / ch), 0, ny - 1).astype(np.int64)
    wx, wy = ix1 - ix0 + 1, iy1 - iy0 + 1
    counts = wx * wy
    rep = np.repeat(np.arange(edge.shape[0]), counts)
    k = np.arange(rep.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
    cx = ix0[rep] + k % wx[rep]
    cy = iy0[rep] + k // wx[rep]
    centre_x, centre_y = x0 + (cx + 0.5) * cw, y0 + (cy + 0.5) * ch
    d = _segment_distance(centre_x, centre_y, ax[rep], ay[rep], bx[rep], by[rep])
    keep = d <= 0.5 * np.hypot(cw, ch) * (1 + 1e-9)
    return cy[keep] * nx + cx[keep], edge[rep[keep]]


def _reference_inside(rings: Rings, g: tuple[int, int, float, float, float, float]) -> Bool:
    """Even-odd state of every cell's reference point: one scanline per row of cells."""
    nx, ny, x0, y0, cw, ch = g
    ry = y0 + (np.arange(ny) + REF_FY) * ch
    rx = x0 + (np.arange(nx) + REF_FX) * cw
    ax, ay, bx, by = rings.x[:-1], rings.y[:-1], rings.x[1:], rings.y[1:]
    valid = np.ones(ax.shape[0], dtype=np.bool_)
    valid[rings.ring_end[:-1]] = False
    ax, ay, bx, by = ax[valid], ay[valid], bx[valid], by[valid]
    straddle = (ay[None, :] > ry[:, None]) != (by[None, :] > ry[:, None])
    row, e = np.nonzero(straddle)
    xc = ax[e] + (ry[row] - ay[e]) * (bx[e] - ax[e]) / (by[e] - ay[e])
    span = (rx[-1] - x0) + (np.max(np.abs(xc - x0)) if xc.size else 0.0) + 1.0
    keys = np.sort(row * 2 * span + (xc - x0) + span)
    row_start = np.searchsorted(keys, np.arange(ny) * 2 * span)
    q = (np.arange(ny)[:, None] * 2 * span + (rx[None, :] - x0) + span).ravel()
    left = np.searchsorted(keys, q) - np.repeat(row_start, nx)
    total = np.diff(np.append(row_start, keys.shape[0]))
    right = np.repeat(total, nx) - left
    odd: Bool = (right % 2) == 1
    return odd


def _compile_cells(rings: Rings) -> _ZoneCells:
    minx, maxx = float(rings.x.min()), float(rings.x.max())
    miny, maxy = float(rings.y.min()), float(rings.y.max())
    pad = 1e-9 * max(maxx - minx, maxy - miny, 1.0)
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    n_edges = rings.x.shape[0] - rings.ring_end.shape[0]
    nx, ny = _grid_shape(n_edges, maxx - minx, maxy - miny)
    g = (nx, ny, minx, miny, (maxx - minx) / nx, (maxy - miny) / ny)
    cell, edge = _edge_cells(rings, g)
    order = np.argsort(cell, kind="stable")
    ptr = np.zeros(nx * ny + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(cell, minlength=nx * ny))
    crossed = (ptr[1:] - ptr[:-1]) > 0
    cw, ch = g[4], g[5]
    edt = ndimage.distance_transform_edt(~crossed.reshape(ny, nx), sampling=(ch, cw))
    gap = np.asarray(edt).ravel().astype(np.float32)
    gap[crossed] = -1.0
    return _ZoneCells(
        nx=nx,
        ny=ny,
        x0=minx,
        y0=miny,
        cw=cw,
        ch=ch,
        inside=_reference_inside(rings, g),
        gap=gap,
        ptr=ptr,
        edges=edge[order],
    )


def build_grid(zones: Sequence[Rings], origin: Sequence[tuple[float, float]]) -> PolygonGrid:
    """Compile every zone's rings into one index; zone row i is zones[i], whose plane has
    its origin at origin[i] (lon, lat)."""
    parts = [_compile_cells(r) for r in zones]
    n_verts = np.array([r.x.shape[0] for r in zones], dtype=np.int64)
    vert_base = np.cumsum(n_verts) - n_verts
    n_cells = np.array([p.nx * p.ny for p in parts], dtype=np.int64)
    edge_ok = np.ones(int(n_verts.sum()), dtype=np.bool_)
    for r, base in zip(zones, vert_base.tolist(), strict=True):
        edge_ok[base + r.ring_end] = False
    counts = np.concatenate([np.diff(p.ptr) for p in parts]) if parts else np.zeros(0, np.int64)
    ptr = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(counts)
    lon0 = np.array([o[0] for o in origin], dtype=np.float64)
    lat0 = np.array([o[1] for o in origin], dtype=np.float64)
    zf = np.zeros((len(parts), 8))
    zf[:, LON0], zf[:, LAT0], zf[:, KX] = lon0, lat0, M_PER_DEG * np.cos(np.radians(lat0))
    zf[:, X0] = [p.x0 for p in parts]
    zf[:, Y0] = [p.y0 for p in parts]
    zf[:, CW] = [p.cw for p in parts]
    zf[:, CH] = [p.ch for p in parts]
    zf[:, DIAGONAL] = np.hypot(zf[:, CW], zf[:, CH])
    zi = np.zeros((len(parts), 5), dtype=np.int64)
    zi[:, NX] = [p.nx for p in parts]
    zi[:, NY] = [p.ny for p in parts]
    zi[:, CELL_BASE] = np.cumsum(n_cells) - n_cells
    zi[:, VERT_BASE], zi[:, VERT_END] = vert_base, vert_base + n_verts
    return PolygonGrid(
        zf=zf,
        zi=zi,
        cell_inside=np.concatenate([p.inside for p in parts]) if parts else np.zeros(0, bool),
        cell_gap=np.concatenate([p.gap for p in parts]) if parts else np.zeros(0, np.float32),
        cell_ptr=ptr,
        cell_edges=np.concatenate(
            [p.edges + b for p, b in zip(parts, vert_base, strict=True)]
        ).astype(np.int32)
        if parts
        else np.zeros(0, np.int32),
        vx=np.concatenate([r.x for r in zones]) if zones else np.zeros(0),
        vy=np.concatenate([r.y for r in zones]) if zones else np.zeros(0),
        edge_ok=edge_ok,
    )
