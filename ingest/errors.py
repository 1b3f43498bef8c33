"""Why an input was refused; every message here is a quarantine reason a person can act on."""

from __future__ import annotations


class IngestError(Exception):
    """Base of ingest errors."""


class RejectedInputError(IngestError):
    """A payload or topic that will not be stored as a fix; the message is the reason."""
