"""Statement and report screens (issue 5)."""
