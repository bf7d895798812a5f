"""The checks every config and layer shares, defined once: each error names the field, the value
and what it must be."""
from __future__ import annotations


def fail(owner: str, field: str, value, expected: str):
    """Raises `ValueError("<owner>.<field> must be <expected>, got <value>")`."""
    raise ValueError(f"{owner}.{field} must be {expected}, got {value!r}")


def check_rate(owner: str, field: str, value) -> float:
    """A dropout rate: a number in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value < 1.0:
        fail(owner, field, value, "in [0, 1)")
    return float(value)


def check_choice(owner: str, field: str, value, choices) -> None:
    if value not in choices:
        fail(owner, field, value, f"one of {tuple(choices)}")
