"""Benchmarks: programs that print numbers (`ccmon bench geofence | rules | delivery | e2e`),
each with a peer's figure from the same run beside ccmon's."""
