"""Dataset names -> loaders; `load(name, **kwargs)` returns a `TaskData`.

`REGISTRY` is a plain dict that other modules extend, e.g.
`REGISTRY["tfds:imdb_reviews"] = load_imdb_reviews`; a loader is any callable returning
`TaskData`. The registry corpora (no network beyond the package registries; see each module's
docstring for its split rule):

| name | task | module | kwargs |
|---|---|---|---|
| `uci_sentiment` | classification, ("negative", "positive") | `zoo.data.sentiment` | `domains`, `data_dir` |
| `brown_pos` | tagging, universal (12) or raw (472) tags | `zoo.data.brown` | `tagset`, `data_dir` |
| `snli` | pair, ("entailment", "neutral", "contradiction") | `zoo.data.snli` | `data_dir` |
| `snli_entailment` | sequence_to_sequence, (premise, entailed hypothesis) | `zoo.data.snli` | `data_dir` |
| `kjv` | language_model, one text per book | `zoo.data.kjv` | `data_dir` |

GloVe vectors are not a task: `zoo.data.glove.load_glove_6b_50d()`.
"""
from __future__ import annotations

import difflib
from typing import Callable

from zoo.data.brown import load_brown_pos
from zoo.data.kjv import load_kjv
from zoo.data.sentiment import load_uci_sentiment
from zoo.data.snli import load_snli, load_snli_entailment
from zoo.data.task_data import TaskData

REGISTRY: dict[str, Callable[..., TaskData]] = {
    "uci_sentiment": load_uci_sentiment,
    "brown_pos": load_brown_pos,
    "snli": load_snli,
    "snli_entailment": load_snli_entailment,
    "kjv": load_kjv,
}


# What each registry corpus holds (TaskData.task), so a task can name the datasets it reads
# without loading any.
KINDS = {"uci_sentiment": "classification", "brown_pos": "tagging", "snli": "pair",
         "snli_entailment": "sequence_to_sequence", "kjv": "language_model"}


def names_of_kind(kind: str) -> list[str]:
    """The datasets that hold `kind` data: the registry corpora, then the tfds names."""
    from zoo.data.tfds_datasets import TFDS_SPECS

    return sorted(name for name, held in KINDS.items() if held == kind) + \
        sorted(name for name, spec in TFDS_SPECS.items() if spec.task == kind)


def names() -> list[str]:
    """The registered dataset names, sorted."""
    return sorted(REGISTRY)


def load(name: str, **kwargs) -> TaskData:
    """Load a registered dataset by name, passing `kwargs` to its loader.

    Raises:
        ValueError: `name` is not registered (the message lists the known names).

    Examples:
        >>> data = zoo.data.load("brown_pos", tagset="raw")
        >>> data.task
        'tagging'
    """
    loader = REGISTRY.get(name)
    if loader is None:
        close = difflib.get_close_matches(str(name), list(REGISTRY), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown dataset {name!r}{hint}; known datasets: {', '.join(names())}")
    data = loader(**kwargs)
    if not isinstance(data, TaskData):
        raise TypeError(f"the loader registered as {name!r} returned {type(data).__name__}, "
                        f"not TaskData")
    return data
