"""A polygon's rings rasterised into its grid's cells, compiled (numba): which edges touch
each cell, the even-odd side of each cell's reference point, and each cell's distance to the
nearest cell the boundary crosses (an exact Euclidean distance transform)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numba
import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    F64 = NDArray[np.float64]
    I64 = NDArray[np.int64]

Grid = tuple[int, int, float, float, float, float]  # nx, ny, x0, y0, cw, ch

# Where in its cell the reference point sits (fractions of the cell): off-centre, so that
# regular shapes (grids, symmetric polygons) do not pass an edge through it.
REF_FX, REF_FY = 0.6180339887, 0.5772156649


@numba.njit(cache=True, error_model="numpy", inline="always")
def _near(cx: float, cy: float, ax: float, ay: float, bx: float, by: float, limit: float) -> bool:
    """Is the segment a-b within `limit` of (cx, cy)?"""
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    t = ((cx - ax) * dx + (cy - ay) * dy) / (len2 if len2 != 0 else 1.0)
    t = min(max(t, 0.0), 1.0)
    ex, ey = ax + t * dx - cx, ay + t * dy - cy
    return ex * ex + ey * ey <= limit * limit


@numba.njit(cache=True, error_model="numpy", inline="always")
def _cell_span(a: float, b: float, origin: float, size: float, n: int) -> tuple[int, int]:
    """The cells (along one axis) the span a..b lies in."""
    lo = min(max(math.floor((min(a, b) - origin) / size), 0), n - 1)
    hi = min(max(math.floor((max(a, b) - origin) / size), 0), n - 1)
    return lo, hi


@numba.njit(cache=True, error_model="numpy")
def _edge_cells(
    x: F64, y: F64, edge_ok: NDArray[np.bool_], first: int, last: int, g: Grid, found: I64
) -> tuple[I64, int]:
    """(cell, edge) pairs for the edges of vertices first..last, in found[0] and found[1]
    (grown when too small), edges in order: an edge is kept in a cell of its bounding box
    when the cell's centre is within half a cell diagonal of it. Returns found and the
    number of pairs."""
    nx, ny, x0, y0, cw, ch = g
    bound = 0
    for e in range(first, last - 1):
        if edge_ok[e]:
            ix0, ix1 = _cell_span(x[e], x[e + 1], x0, cw, nx)
            iy0, iy1 = _cell_span(y[e], y[e + 1], y0, ch, ny)
            bound += (ix1 - ix0 + 1) * (iy1 - iy0 + 1)
    if found.shape[1] < bound:
        found = np.empty((2, 2 * bound), np.int64)
    half = 0.5 * math.hypot(cw, ch) * (1 + 1e-9)
    k = 0
    for e in range(first, last - 1):
        if not edge_ok[e]:
            continue
        ax, ay, bx, by = x[e], y[e], x[e + 1], y[e + 1]
        ix0, ix1 = _cell_span(ax, bx, x0, cw, nx)
        iy0, iy1 = _cell_span(ay, by, y0, ch, ny)
        for cy in range(iy0, iy1 + 1):
            for cx in range(ix0, ix1 + 1):
                if _near(x0 + (cx + 0.5) * cw, y0 + (cy + 0.5) * ch, ax, ay, bx, by, half):
                    found[0, k], found[1, k] = cy * nx + cx, e
                    k += 1
    return found, k


@numba.njit(cache=True, error_model="numpy")
def _reference_inside(
    x: F64,
    y: F64,
    edge_ok: NDArray[np.bool_],
    first: int,
    last: int,
    g: Grid,
    inside: NDArray[np.bool_],
) -> None:
    """Even-odd state of every cell's reference point (into `inside`, the zone's cells):
    each edge toggles, in each row of cells whose reference line it straddles, the cells
    left of its crossing."""
    nx, ny, x0, y0, cw, ch = g
    marks = np.zeros((ny, nx + 1), np.bool_)
    for e in range(first, last - 1):
        if not edge_ok[e]:
            continue
        ax, ay, bx, by = x[e], y[e], x[e + 1], y[e + 1]
        lo = max(math.ceil((min(ay, by) - y0) / ch - REF_FY) - 1, 0)
        hi = min(math.floor((max(ay, by) - y0) / ch - REF_FY) + 1, ny - 1)
        for row in range(lo, hi + 1):
            ry = y0 + (row + REF_FY) * ch
            if (ay > ry) != (by > ry):
                xc = ax + (ry - ay) * (bx - ax) / (by - ay)
                # cells with reference x < xc: the first k of the row
                k = math.ceil((xc - x0) / cw - REF_FX)
                marks[row, min(max(k, 0), nx)] ^= True
    for row in range(ny):
        state = False
        for ix in range(nx - 1, -1, -1):
            state ^= marks[row, ix + 1]
            inside[row * nx + ix] = state


@numba.njit(cache=True, error_model="numpy")
def _transform_1d(f: F64, step2: float, out: F64, v: I64, z: F64) -> None:
    """Felzenszwalb and Huttenlocher's squared distance transform of one line: out[q] =
    min over p of f[p] + step2 (q - p)^2."""
    n = f.shape[0]
    k = -1
    for q in range(n):
        if f[q] == np.inf:
            continue
        while k >= 0:
            p = v[k]
            s = ((f[q] + step2 * q * q) - (f[p] + step2 * p * p)) / (2 * step2 * (q - p))
            if s <= z[k]:
                k -= 1
            else:
                break
        k += 1
        v[k] = q
        z[k] = -np.inf if k == 0 else s
        z[k + 1] = np.inf
    if k < 0:
        out[:] = np.inf
        return
    j = 0
    for q in range(n):
        while z[j + 1] < q:
            j += 1
        p = v[j]
        out[q] = f[p] + step2 * (q - p) * (q - p)


@numba.njit(cache=True, error_model="numpy")
def _crossed_gap(crossed: NDArray[np.bool_], g: Grid, gap: NDArray[np.float32]) -> None:
    """Distance from each cell's centre to the nearest crossed cell's centre (into `gap`,
    the zone's cells; -1 for crossed cells, inf when none is crossed)."""
    nx, ny, _, _, cw, ch = g
    d2 = np.empty((ny, nx))
    n = max(nx, ny)
    v, z, line, out = np.empty(n, np.int64), np.empty(n + 1), np.empty(n), np.empty(n)
    for row in range(ny):
        for ix in range(nx):
            line[ix] = 0.0 if crossed[row * nx + ix] else np.inf
        _transform_1d(line[:nx], cw * cw, out[:nx], v, z)
        d2[row, :] = out[:nx]
    for ix in range(nx):
        for row in range(ny):
            line[row] = d2[row, ix]
        _transform_1d(line[:ny], ch * ch, out[:ny], v, z)
        d2[:, ix] = out[:ny]
    for c in range(nx * ny):
        gap[c] = -1.0 if crossed[c] else math.sqrt(d2[c // nx, c % nx])


@numba.njit(cache=True, error_model="numpy")
def rasterise(
    x: F64,
    y: F64,
    edge_ok: NDArray[np.bool_],
    vert_base: I64,
    vert_end: I64,
    shape: I64,
    corner: F64,
    cell: F64,
) -> tuple[NDArray[np.bool_], NDArray[np.float32], I64, NDArray[np.int32]]:
    """Every zone's grid: zone i's vertices are vert_base[i]..vert_end[i], its grid
    shape[i] = (nx, ny) cells of cell[i] = (width, height) from corner[i] = (x0, y0).
    Returns the cells' reference sides and gaps, and the CSR of the edges touching each
    cell (as global vertex indices), all zones' cells one after another."""
    n = vert_base.shape[0]
    base = np.zeros(n + 1, np.int64)
    for i in range(n):
        base[i + 1] = base[i] + shape[i, 0] * shape[i, 1]
    ptr = np.zeros(base[n] + 1, np.int64)
    edges = np.empty(max(2 * x.shape[0], 16), np.int32)
    inside = np.empty(base[n], np.bool_)
    gap = np.empty(base[n], np.float32)
    found = np.empty((2, 1024), np.int64)
    total = 0
    for i in range(n):
        g = (shape[i, 0], shape[i, 1], corner[i, 0], corner[i, 1], cell[i, 0], cell[i, 1])
        found, k = _edge_cells(x, y, edge_ok, vert_base[i], vert_end[i], g, found)
        lo, hi = base[i], base[i + 1]
        # counting sort of the zone's pairs by cell, appended to the CSR
        start = ptr[lo : hi + 1]
        for j in range(k):
            start[found[0, j] + 1] += 1
        start[0] = total
        for c in range(hi - lo):
            start[c + 1] += start[c]
        if edges.shape[0] < total + k:
            grown = np.empty(2 * (total + k), np.int32)
            grown[:total] = edges[:total]
            edges = grown
        fill = start[:-1].copy()
        for j in range(k):
            c = found[0, j]
            edges[fill[c]] = found[1, j]
            fill[c] += 1
        total += k
        _reference_inside(x, y, edge_ok, vert_base[i], vert_end[i], g, inside[lo:hi])
        _crossed_gap(start[1:] > start[:-1], g, gap[lo:hi])
    return inside, gap, ptr, edges[:total].copy()
