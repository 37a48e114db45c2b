"""Gridline: ticket orchestration for 95598 power-supply service centres (the front door)."""
