"""Tests of the sources layer: package marker so test modules import as tests.sources.*."""
