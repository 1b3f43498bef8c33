"""Each subject's level policy as arrays, so rules look it up per fix without a loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from domain import Ids, LevelPolicy, Spans, SupervisionLevel

if TYPE_CHECKING:
    from collections.abc import Mapping


_LEVELS = tuple(SupervisionLevel)


@dataclass(frozen=True, slots=True)
class Policies:
    """`subjects` sorted; `level[i]` indexes `_LEVELS` for subjects[i]. A subject not (yet)
    known gets the strictest level: a new subject is never watched less than it should be."""

    subjects: Ids
    level: NDArray[np.int64]
    by_level: tuple[LevelPolicy, ...]
    spans: Spans  # each subject's row
    # the level by `spans.index` where ids are dense: one gather a fix
    table: NDArray[np.int64] | None

    @classmethod
    def build(
        cls, levels: Mapping[int, SupervisionLevel], policy: Mapping[SupervisionLevel, LevelPolicy]
    ) -> Policies:
        subjects = np.array(sorted(levels), dtype=np.int64)
        level = np.array([_LEVELS.index(levels[s]) for s in subjects.tolist()], dtype=np.int64)
        spans = Spans.of(subjects)
        return cls(
            subjects, level, tuple(policy[lv] for lv in _LEVELS), spans, spans.table(level, 0)
        )

    def of(self, subject_id: int) -> LevelPolicy:
        return self.by_level[int(self._level_rows(np.array([subject_id]))[0])]

    def column(self, subject: Ids, name: str) -> NDArray[np.float64]:
        """One policy field (`confirm_fixes`, `separation_m`, ...) per element of `subject`."""
        values = np.array([getattr(p, name) for p in self.by_level], dtype=np.float64)
        return values[self._level_rows(subject)]

    def _level_rows(self, subject: Ids) -> NDArray[np.int64]:
        if self.table is not None:
            return self.table[self.spans.index(subject)]
        lo, hi = self.spans.rows(subject)
        return np.append(self.level, 0)[np.where(hi > lo, lo, self.level.shape[0])]
