"""Experiments: their fields, lifecycle state machine, traffic split (deviations), variations and scheduler."""
