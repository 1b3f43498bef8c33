"""Composition root: command line, settings, embedded services, wiring."""
