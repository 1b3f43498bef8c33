"""Who is asking: the signed-in user (or the user an API token acts as) and the offices they
see. Every route takes one; the change log records one."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain import Role


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user (or the user an API token acts as). `offices`: the offices whose
    subjects they see, their own and every office below it; None for a user of no office
    (the whole county)."""

    user_id: int
    username: str
    role: Role
    office_id: int | None
    session_id: UUID | None  # None for an API token
    offices: tuple[int, ...] | None

    @property
    def scope(self) -> list[int] | None:
        """`offices` as the store's queries take them."""
        return None if self.offices is None else list(self.offices)

    def sees(self, office_id: int | None) -> bool:
        """Is this office (None: the county's own, as a shared zone) within the user's?"""
        return self.offices is None or office_id in self.offices
