"""Rules over fix batches (pure) and the alert lifecycle."""

from alerts.rules import ZoneState, zone_alerts

__all__ = ["ZoneState", "zone_alerts"]
