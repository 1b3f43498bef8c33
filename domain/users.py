"""The people who work in ccmon, by what they may do."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # runs the system: offices, users, webhooks (county-wide)
    SUPERVISOR = "supervisor"  # manages the subjects of their offices
    OFFICER = "officer"  # on duty: watches, acknowledges, resolves
    AUDITOR = "auditor"  # reads the record of who looked at what
