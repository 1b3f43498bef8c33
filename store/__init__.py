"""PostgreSQL schema, migrations and queries (psycopg 3); callers own the transactions."""

from store.alerts import AlertRow, list_alerts, live_alert_assignments, open_alerts
from store.events import EventRow, NewEvent, insert_events, subject_events
from store.fixes import FixRow, copy_fixes, last_fixes
from store.migrate import migrate
from store.quarantine import QuarantineRow, Rejected, list_quarantine, quarantine
from store.registry import (
    SubjectRow,
    assign_zone,
    count_subjects,
    create_device,
    create_office,
    create_subject,
    create_zone,
    list_subjects,
    load_assignments,
    load_devices,
    load_zones,
    registry_version,
    schedule_from_json,
    schedule_to_json,
    subject_exists,
)
from store.users import create_user, password_hash

__all__ = [
    "AlertRow",
    "EventRow",
    "FixRow",
    "NewEvent",
    "QuarantineRow",
    "Rejected",
    "SubjectRow",
    "assign_zone",
    "copy_fixes",
    "count_subjects",
    "create_device",
    "create_office",
    "create_subject",
    "create_user",
    "create_zone",
    "insert_events",
    "last_fixes",
    "list_alerts",
    "list_quarantine",
    "list_subjects",
    "live_alert_assignments",
    "load_assignments",
    "load_devices",
    "load_zones",
    "migrate",
    "open_alerts",
    "password_hash",
    "quarantine",
    "registry_version",
    "schedule_from_json",
    "schedule_to_json",
    "subject_events",
    "subject_exists",
]
