"""Tests of the reliability layer: package marker so test modules import as tests.reliability.*."""
