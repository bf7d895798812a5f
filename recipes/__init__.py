"""Per-task training recipes (`python -m recipes.<task>` or `zoo train <task>`)."""
