"""Fixes: written in batches with COPY, read back as a subject's latest positions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from psycopg.rows import class_row

from store.stays import MARK_PENDING

if TYPE_CHECKING:
    from psycopg import AsyncConnection

    from domain import FixBatch

_NULL = "\\N"
_COLUMNS = "time, subject_id, device_id, lon, lat, accuracy, source, battery, seq, received_at"


@dataclass(frozen=True, slots=True)
class FixRow:
    time: datetime
    device_code: str
    device_kind: str
    lon: float
    lat: float
    accuracy: float
    source: str
    battery: int | None
    seq: int | None
    received_at: datetime


def stamps(seconds: np.ndarray[Any, np.dtype[np.float64]]) -> list[str]:
    """Epoch seconds as timestamptz text, rounded to the microsecond exactly as
    `datetime.fromtimestamp` rounds (the rules' times are compared with these)."""
    fraction, whole = np.modf(seconds)
    micros = whole.astype(np.int64) * 1_000_000 + np.round(fraction * 1e6).astype(np.int64)
    text = np.datetime_as_string(micros.astype("datetime64[us]"), unit="us")
    return [f"{t}Z" for t in text.tolist()]


def _copy_text(batch: FixBatch) -> bytes:
    """The batch in COPY's text format, one line per fix (nothing in it needs escaping:
    numbers, timestamps and the source's enum values)."""
    return "".join(
        f"{t}\t{s}\t{d}\t{lo!r}\t{la!r}\t{acc!r}\t{src.value}\t"
        f"{b if b >= 0 else _NULL}\t{q if q >= 0 else _NULL}\t{r}\n"
        for t, s, d, lo, la, acc, src, b, q, r in zip(
            stamps(batch.time),
            batch.subject.tolist(),
            batch.device.tolist(),
            batch.lon.tolist(),
            batch.lat.tolist(),
            batch.accuracy.tolist(),
            batch.source,
            batch.battery.tolist(),
            batch.seq.tolist(),
            stamps(batch.received),
            strict=True,
        )
    ).encode()


async def copy_fixes(conn: AsyncConnection[Any], batch: FixBatch) -> int:
    """COPY a batch in; a fix already stored (same device, time, seq) is skipped.

    Returns how many were new. Each device's newest fix also becomes its current position
    (`device_positions`, which the live feed follows), and the subjects go on the stay
    job's queue. Call inside a transaction: the staging table empties on commit.
    """
    await conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS fix_stage (LIKE fixes) ON COMMIT DELETE ROWS"
    )
    async with conn.cursor().copy(f"COPY fix_stage ({_COLUMNS}) FROM STDIN") as copy:
        await copy.write(_copy_text(batch))
    cur = await conn.execute(
        f"INSERT INTO fixes ({_COLUMNS}) SELECT {_COLUMNS} FROM fix_stage ON CONFLICT DO NOTHING"
    )
    new = cur.rowcount
    await conn.execute(
        "INSERT INTO device_positions AS p (device_id, subject_id, time, lon, lat, accuracy,"
        " source, battery, received_at)"
        " SELECT DISTINCT ON (device_id) device_id, subject_id, time, lon, lat, accuracy,"
        " source, battery, received_at FROM fix_stage ORDER BY device_id, time DESC"
        " ON CONFLICT (device_id) DO UPDATE SET subject_id = excluded.subject_id,"
        " time = excluded.time, lon = excluded.lon, lat = excluded.lat,"
        " accuracy = excluded.accuracy, source = excluded.source,"
        " battery = excluded.battery, received_at = excluded.received_at,"
        " xid = pg_current_xact_id() WHERE excluded.time > p.time"
    )
    await conn.execute(MARK_PENDING)
    return new


async def last_fixes(conn: AsyncConnection[Any], *, subject_id: int, limit: int) -> list[FixRow]:
    """A subject's newest fixes, newest first."""
    cur = conn.cursor(row_factory=class_row(FixRow))
    await cur.execute(
        "SELECT f.time, d.code AS device_code, d.kind AS device_kind, f.lon, f.lat,"
        " f.accuracy, f.source, f.battery, f.seq, f.received_at"
        " FROM fixes f JOIN devices d ON d.id = f.device_id"
        " WHERE f.subject_id = %s ORDER BY f.time DESC LIMIT %s",
        (subject_id, limit),
    )
    return await cur.fetchall()
