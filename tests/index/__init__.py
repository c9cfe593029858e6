"""Tests for /indextests/index: package marker so test modules import as tests.*."""
