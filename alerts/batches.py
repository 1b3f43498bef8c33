"""A batch's turn with the rules, inside the transaction that stores it: `take` locks the
batch's subjects' rule state (another ingest process waits) and brings it up to date;
`Turn.decide` judges what was stored for the first time and writes the alerts, the state
they lead to and any pursuit they start; `Decided.apply` remembers it once committed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from psycopg import AsyncConnection

import store
from alerts import pursuit
from alerts.rulebook import RuleBook, Verdict
from domain import AlertChange, LevelPolicy, SupervisionLevel

if TYPE_CHECKING:
    from collections.abc import Iterable

    from domain import EventReport, FixBatch
    from geofence import Evaluation


@dataclass(frozen=True, slots=True)
class Decided:
    """What a batch's turn decided and wrote; `apply` it after the commit."""

    changes: list[AlertChange]
    _rules: RuleBook
    _verdicts: list[Verdict]
    _versions: Mapping[int, int]

    def apply(self) -> None:
        for verdict in self._verdicts:
            self._rules.apply(verdict, versions=self._versions)


@dataclass(frozen=True, slots=True)
class Turn:
    conn: AsyncConnection[Any]
    rules: RuleBook
    versions: Mapping[int, int]
    levels: Mapping[SupervisionLevel, LevelPolicy]
    actor: str

    async def decide(
        self,
        events: list[EventReport],
        current: FixBatch,
        evaluation: Evaluation | None,
        protected: FixBatch | None = None,
    ) -> Decided:
        """The device-event rules over `events` (new ones only) and, unless `evaluation`
        is None (nothing current), the zone, separation and proximity rules over `current`
        and the protected persons' current fixes."""
        heard = self.rules.hear(events)
        verdicts = [heard]
        changes = await heard.save(self.conn, actor=self.actor)
        if evaluation is not None:
            verdict = self.rules.judge(current, evaluation, protected)
            verdicts.append(verdict)
            changes += await verdict.save(self.conn, actor=self.actor)
        await pursuit.start(self.conn, changes, levels=self.levels)
        return Decided(changes, self.rules, verdicts, self.versions)


async def take(
    conn: AsyncConnection[Any],
    rules: RuleBook,
    subjects: Iterable[int],
    *,
    levels: Mapping[SupervisionLevel, LevelPolicy],
    actor: str,
) -> Turn:
    """Begin a batch's turn in the caller's transaction, before it writes anything."""
    await store.rule_state.lock_rules(conn, alone=False)
    versions = await rules.claim(conn, subjects)
    return Turn(conn, rules, versions, levels, actor)
