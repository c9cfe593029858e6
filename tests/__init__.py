"""Tests for tests: package marker so test modules import as tests.*."""
