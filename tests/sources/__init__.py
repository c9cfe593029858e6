"""Tests for /sourcestests/sources: package marker so test modules import as tests.*."""
