"""Each subject's level policy as arrays, so rules look it up per fix without a loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from domain import Ids, LevelPolicy, SupervisionLevel

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
    # level by subject id, when ids are dense enough for a table (the last entry stands for
    # every id beyond it): a gather instead of a binary search per fix
    table: NDArray[np.int64] | None = None

    @classmethod
    def build(
        cls, levels: Mapping[int, SupervisionLevel], policy: Mapping[SupervisionLevel, LevelPolicy]
    ) -> Policies:
        subjects = np.array(sorted(levels), dtype=np.int64)
        level = np.array([_LEVELS.index(levels[s]) for s in subjects.tolist()], dtype=np.int64)
        table = None
        top = int(subjects[-1]) + 1 if subjects.size else 0
        if subjects.size and subjects[0] >= 0 and top <= 4 * subjects.shape[0] + 100_000:
            table = np.zeros(top + 1, dtype=np.int64)
            table[subjects] = level
        return cls(subjects, level, tuple(policy[lv] for lv in _LEVELS), table)

    def of(self, subject_id: int) -> LevelPolicy:
        return self.by_level[int(self._level_rows(np.array([subject_id]))[0])]

    def column(self, subject: Ids, name: str) -> NDArray[np.float64]:
        """One policy field (`confirm_fixes`, `separation_m`, ...) per element of `subject`."""
        values = np.array([getattr(p, name) for p in self.by_level], dtype=np.float64)
        return values[self._level_rows(subject)]

    def _level_rows(self, subject: Ids) -> NDArray[np.int64]:
        if self.subjects.shape[0] == 0:
            return np.zeros(subject.shape[0], dtype=np.int64)
        if self.table is not None:
            found = self.table[np.clip(subject, 0, self.table.shape[0] - 1)]
            return np.where(subject >= 0, found, 0)
        i = np.clip(np.searchsorted(self.subjects, subject), 0, self.subjects.shape[0] - 1)
        return np.where(self.subjects[i] == subject, self.level[i], 0)
