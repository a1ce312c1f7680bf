"""Shared, the lowest layer: the answer types, settings, errors, the loopback check and optional-package checks.

Imports nothing else of the project (prompts/ aside, which imports nothing at all)."""
