"""Maintenance scripts (not installed): the replay snapshot factory."""
