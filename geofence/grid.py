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

import numba
import numpy as np
from numpy.typing import NDArray

from geofence import raster

if TYPE_CHECKING:
    from collections.abc import Sequence

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Bool = NDArray[np.bool_]

EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG = EARTH_RADIUS_M * math.pi / 180.0
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


def _grid_shapes(n_edges: I64, w: F64, h: F64) -> I64:
    """About as many cells as edges, in the box's aspect: (nx, ny) per zone."""
    aspect = w / h
    nx = np.clip(np.ceil(np.sqrt(n_edges * aspect)), 1, _MAX_CELLS_PER_AXIS)
    ny = np.clip(np.ceil(np.sqrt(n_edges / aspect)), 1, _MAX_CELLS_PER_AXIS)
    return np.column_stack([nx, ny]).astype(np.int64)


def build_grid(zones: Sequence[Rings], origin: Sequence[tuple[float, float]]) -> PolygonGrid:
    """Compile every zone's rings into one index; zone row i is zones[i], whose plane has
    its origin at origin[i] (lon, lat)."""
    if not zones:
        return merge_grids([])
    n = len(zones)
    n_verts = np.array([r.x.shape[0] for r in zones], dtype=np.int64)
    vert_base = np.cumsum(n_verts) - n_verts
    vx = np.concatenate([r.x for r in zones])
    vy = np.concatenate([r.y for r in zones])
    edge_ok = np.ones(vx.shape[0], dtype=np.bool_)
    edge_ok[np.concatenate([b + r.ring_end for r, b in zip(zones, vert_base, strict=True)])] = False
    lo = np.column_stack([np.minimum.reduceat(vx, vert_base), np.minimum.reduceat(vy, vert_base)])
    hi = np.column_stack([np.maximum.reduceat(vx, vert_base), np.maximum.reduceat(vy, vert_base)])
    pad = 1e-9 * np.maximum((hi - lo).max(axis=1), 1.0)
    lo, hi = lo - pad[:, None], hi + pad[:, None]
    n_rings = np.array([r.ring_end.shape[0] for r in zones], dtype=np.int64)
    shape = _grid_shapes(n_verts - n_rings, hi[:, 0] - lo[:, 0], hi[:, 1] - lo[:, 1])
    cell = (hi - lo) / shape
    inside, gap, ptr, edges = raster.rasterise(
        vx, vy, edge_ok, vert_base, vert_base + n_verts, shape, lo, cell
    )
    lon0 = np.array([o[0] for o in origin], dtype=np.float64)
    lat0 = np.array([o[1] for o in origin], dtype=np.float64)
    zf = np.zeros((n, 8))
    zf[:, LON0], zf[:, LAT0], zf[:, KX] = lon0, lat0, M_PER_DEG * np.cos(np.radians(lat0))
    zf[:, X0], zf[:, Y0] = lo[:, 0], lo[:, 1]
    zf[:, CW], zf[:, CH] = cell[:, 0], cell[:, 1]
    zf[:, DIAGONAL] = np.hypot(zf[:, CW], zf[:, CH])
    n_cells = shape[:, 0] * shape[:, 1]
    zi = np.zeros((n, 5), dtype=np.int64)
    zi[:, NX], zi[:, NY] = shape[:, 0], shape[:, 1]
    zi[:, CELL_BASE] = np.cumsum(n_cells) - n_cells
    zi[:, VERT_BASE], zi[:, VERT_END] = vert_base, vert_base + n_verts
    return PolygonGrid(
        zf=zf,
        zi=zi,
        cell_inside=inside,
        cell_gap=gap,
        cell_ptr=ptr,
        cell_edges=edges,
        vx=vx,
        vy=vy,
        edge_ok=edge_ok,
    )


@numba.njit(cache=True)
def _copy_rows(
    src: PolygonGrid, rows: I64, dst: PolygonGrid, row0: int, vert0: int, cell0: int
) -> tuple[int, int]:
    """Zones `rows` of src into dst from zone row0, vertex vert0 and cell cell0 on (their
    edges moved with their vertices); returns the next vertex and cell."""
    v, c = vert0, cell0
    for k in range(rows.shape[0]):
        r, out = rows[k], row0 + k
        vb, ve = src.zi[r, VERT_BASE], src.zi[r, VERT_END]
        cb, nc = src.zi[r, CELL_BASE], src.zi[r, NX] * src.zi[r, NY]
        dst.zf[out, :] = src.zf[r, :]
        dst.zi[out, :] = src.zi[r, :]
        dst.zi[out, VERT_BASE], dst.zi[out, VERT_END], dst.zi[out, CELL_BASE] = v, v + ve - vb, c
        dst.vx[v : v + ve - vb] = src.vx[vb:ve]
        dst.vy[v : v + ve - vb] = src.vy[vb:ve]
        dst.edge_ok[v : v + ve - vb] = src.edge_ok[vb:ve]
        dst.cell_inside[c : c + nc] = src.cell_inside[cb : cb + nc]
        dst.cell_gap[c : c + nc] = src.cell_gap[cb : cb + nc]
        e0, e1 = src.cell_ptr[cb], src.cell_ptr[cb + nc]
        out_e = dst.cell_ptr[c]
        for j in range(nc):
            dst.cell_ptr[c + j + 1] = out_e + src.cell_ptr[cb + j + 1] - e0
        shift = v - vb
        for j in range(e1 - e0):
            dst.cell_edges[out_e + j] = src.cell_edges[e0 + j] + shift
        v += ve - vb
        c += nc
    return v, c


def merge_grids(parts: Sequence[tuple[PolygonGrid, I64]]) -> PolygonGrid:
    """One grid of the given rows of several grids, in order: compiled zones reused as
    they are (their cells, edges and vertices copied, nothing recomputed)."""
    n_rows = n_verts = n_cells = n_edges = 0
    for g, rows in parts:
        z = g.zi[rows]
        nc = z[:, NX] * z[:, NY]
        n_rows += rows.shape[0]
        n_verts += int((z[:, VERT_END] - z[:, VERT_BASE]).sum())
        n_cells += int(nc.sum())
        n_edges += int((g.cell_ptr[z[:, CELL_BASE] + nc] - g.cell_ptr[z[:, CELL_BASE]]).sum())
    out = PolygonGrid(
        zf=np.empty((n_rows, 8)),
        zi=np.empty((n_rows, 5), dtype=np.int64),
        cell_inside=np.empty(n_cells, dtype=np.bool_),
        cell_gap=np.empty(n_cells, dtype=np.float32),
        cell_ptr=np.zeros(n_cells + 1, dtype=np.int64),
        cell_edges=np.empty(n_edges, dtype=np.int32),
        vx=np.empty(n_verts),
        vy=np.empty(n_verts),
        edge_ok=np.empty(n_verts, dtype=np.bool_),
    )
    row = vert = cell = 0
    for g, rows in parts:
        vert, cell = _copy_rows(g, rows, out, row, vert, cell)
        row += rows.shape[0]
    return out
