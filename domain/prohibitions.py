"""Prohibition orders (禁止令, Criminal Law Art. 38 and 72): people a subject must not come
near. A protected person (a victim, a witness) whose phone reports is a moving exclusion
zone around that phone; another subject named in the order (a co-defendant) must not be met.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray


class Party(StrEnum):
    """Who is on the other side of a prohibition."""

    PROTECTED = "protected"  # a protected person: their phone's position
    SUBJECT = "subject"  # another subject under community correction


@dataclass(frozen=True, slots=True)
class Prohibition:
    """One pair an order keeps apart: `subject_id` and `other_id` (a protected person's id,
    or another subject's), at least `distance_m` apart. Contact between two subjects counts
    once they were within it for `for_s` seconds; a protected person's zone is entered as an
    exclusion zone is (confirmed over fixes by the subject's level). A subject heading for a
    protected person, predicted to be within `distance_m` in at most `warn_s`, is warned of
    before (0: no warning). `other_code`: how alerts name a protected person (P-17: never
    their name, never where they are)."""

    id: int
    subject_id: int
    other_id: int
    other: Party
    distance_m: float
    for_s: float = 0.0
    warn_s: float = 300.0
    other_code: str = ""


def party_key(protected: NDArray[np.bool_] | bool, ids: NDArray[np.int64]) -> NDArray[np.int64]:
    """One key space for both kinds of party: a subject's id, a protected person's negated
    (ids are positive). A protected person's phone reports under this key from decoding to
    the proximity rule, so their fixes can never be taken for a subject's."""
    out: NDArray[Any] = np.where(protected, -ids, ids)
    return out.astype(np.int64)
