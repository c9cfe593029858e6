"""Tests of the helper scripts under scripts/ (own prices from a ledger)."""
