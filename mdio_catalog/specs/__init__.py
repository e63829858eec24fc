"""Pydantic models of everything a user declares: pure data, no I/O."""
