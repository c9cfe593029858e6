"""Tests of the index layer: package marker so test modules import as tests.index.*."""
