"""The one shape every corpus loader returns, whatever its source (registry package or TFDS)."""
from __future__ import annotations

import dataclasses
from typing import Any

TASKS = ("classification", "tagging", "pair", "language_model", "sequence_to_sequence")


@dataclasses.dataclass(frozen=True)
class TaskData:
    """A corpus cut into fixed train/dev/test splits.

    Example formats, by `task`:
      - "classification": `(text: str, label: int)`
      - "tagging": `(tokens: tuple[str, ...], tags: tuple[int, ...])`
      - "pair": `(premise: str, hypothesis: str, label: int)`
      - "language_model": each example is one document (`str`, e.g. one book).
      - "sequence_to_sequence": `(source: str, target: str)` (e.g. a sentence and its translation).

    Args:
        name: dataset name, e.g. "uci_sentiment" or "glue/sst2".
        task: one of `TASKS`.
        train, dev, test: lists of examples in the format above.
        label_names: class (or tag) names; `label` ints index into it. Empty for language models
            and sequence-to-sequence data.
        info: free-form facts about the load (sizes, skipped rows, split rule), saved with runs.
    """

    name: str
    task: str
    train: list
    dev: list
    test: list
    label_names: tuple[str, ...] = ()
    info: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"TaskData.task must be one of {TASKS}, got {self.task!r}")

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "dev": len(self.dev), "test": len(self.test)}
