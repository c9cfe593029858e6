"""Tests for /reliabilitytests/reliability: package marker so test modules import as tests.*."""
