"""UCI "Sentiment Labelled Sentences" (Kotzias et al. 2015): amazon, imdb and yelp sentences.

Source: the npm package `sentiment@5.0.2` (its test fixtures
`test/fixtures/{amazon,imdb,yelp}.json`), fetched with `npm pack` and checked against its sha256
(see `zoo.data.fetch`).

## Splits (`uci_sentiment`)

Each domain holds 1,000 labelled sentences (500 negative = 0, 500 positive = 1) and one trailing
entry with empty text and `class: null`, which is skipped (and counted). Texts are stripped of
surrounding whitespace. Duplicates are removed within each domain *before* splitting (first copy
kept; a text seen with both labels would be dropped entirely - none is): amazon keeps 990, imdb
997 and yelp 996 unique sentences. One sentence ("Very disappointing.") appears in both amazon and
imdb; it is kept in the first domain in alphabetical order (amazon) only, so that no text can fall
in two splits: 990 + 996 + 996 = 2,982 sentences. Each (domain, label) group is sorted, shuffled
with a fixed seed, and cut 80/10/10 (dev and test get round(10%) each, train the rest), so the
split is stratified by domain and label; each split is then shuffled with the same seed.
Sizes: train 2,384, dev 299, test 299 (amazon 792/99/99, imdb and yelp 796/100/100 each).
"""
from __future__ import annotations

import json
import random
from typing import Sequence

from zoo.data import fetch as _fetch
from zoo.data.task_data import TaskData

PACKAGE = _fetch.Package(
    name="sentiment",
    version="5.0.2",
    client="npm",
    sha256="89302eb03d2005d03b214fe65814bb48adb7d3c42c8ca80bdee6a3ecb7e4480f",
    filename="sentiment-5.0.2.tgz",
)
DOMAINS = ("amazon", "imdb", "yelp")
LABEL_NAMES = ("negative", "positive")
SEED = 1234
DEV_FRACTION = TEST_FRACTION = 0.1
_PARSED = "parsed-v1.json"


def _round_half_up(x: float) -> int:
    return int(x + 0.5)


def parse_domain(raw: str) -> dict:
    """Parse one fixture file into `{"rows": [[text, label], ...], "null_entries": n, "malformed": n}`.

    Rows keep file order and still contain duplicates. An entry with empty text and a null class
    (the trailing one) is counted in `null_entries`; any other entry that is not
    `{"text": non-empty str, "class": 0 or 1}` is counted in `malformed`.
    """
    entries = json.loads(raw)
    if not isinstance(entries, list):
        raise ValueError("a sentiment fixture must hold a JSON list")
    rows, null_entries, malformed = [], 0, 0
    for entry in entries:
        if not isinstance(entry, dict):
            malformed += 1
            continue
        text, label = entry.get("text"), entry.get("class")
        if label is None and isinstance(text, str) and not text.strip():
            null_entries += 1
        elif (isinstance(text, str) and text.strip() and type(label) is int
              and label in (0, 1)):
            rows.append([text.strip(), label])
        else:
            malformed += 1
    return {"rows": rows, "null_entries": null_entries, "malformed": malformed}


def _parsed(data_dir) -> dict:
    def build():
        folder = _fetch.unpack(PACKAGE, root=data_dir,
                               select=lambda name: name.startswith("package/test/fixtures/"))
        fixtures = folder / "package" / "test" / "fixtures"
        return {domain: parse_domain((fixtures / f"{domain}.json").read_text(encoding="utf-8"))
                for domain in DOMAINS}

    return _fetch.cached_json(_fetch.package_dir(PACKAGE, data_dir) / _PARSED, build)


def _deduplicate(rows: list) -> tuple[dict[str, int], int, int]:
    """Unique `text -> label` in first-seen order; counts removed copies and conflicting texts."""
    labels: dict[str, set] = {}
    order: list[str] = []
    for text, label in rows:
        key = " ".join(text.split())
        if key not in labels:
            labels[key] = set()
            order.append(text)
        labels[key].add(label)
    unique, conflicting = {}, 0
    for text in order:
        seen = labels[" ".join(text.split())]
        if len(seen) > 1:
            conflicting += 1
        else:
            unique[text] = next(iter(seen))
    return unique, len(rows) - len(order), conflicting


def split_domain(unique: dict[str, int], domain: str, seed: int = SEED) -> dict[str, list]:
    """Stratified 80/10/10 split of one domain's unique `text -> label`."""
    splits: dict[str, list] = {"train": [], "dev": [], "test": []}
    for label in sorted(set(unique.values())):
        texts = sorted(text for text, lab in unique.items() if lab == label)
        random.Random(f"{seed}-{domain}-{label}").shuffle(texts)
        n_test = _round_half_up(len(texts) * TEST_FRACTION)
        n_dev = _round_half_up(len(texts) * DEV_FRACTION)
        splits["test"] += [(t, label) for t in texts[:n_test]]
        splits["dev"] += [(t, label) for t in texts[n_test:n_test + n_dev]]
        splits["train"] += [(t, label) for t in texts[n_test + n_dev:]]
    return splits


def load_uci_sentiment(domains: Sequence[str] = DOMAINS, *, data_dir=None) -> TaskData:
    """UCI sentiment sentences as a binary classification task (0 negative, 1 positive).

    Args:
        domains: any of "amazon", "imdb", "yelp" (default all three, pooled).
        data_dir: cache root (default `$ZOO_DATA_DIR` or `~/.cache/zoo`).

    Returns:
        `TaskData` with examples `(text, label)`; `info` holds per-domain counts (rows, skipped
        null entries, malformed rows, duplicates removed, split sizes) and the split rule.

    Examples:
        >>> data = zoo.data.load("uci_sentiment")
        >>> data.sizes()
        {'train': 2384, 'dev': 299, 'test': 299}
    """
    unknown = sorted(set(domains) - set(DOMAINS))
    if unknown or not domains:
        raise ValueError(f"unknown domains {unknown}; choose among {DOMAINS}")
    parsed = _parsed(data_dir)
    splits: dict[str, list] = {"train": [], "dev": [], "test": []}
    seen: set[str] = set()
    per_domain = {}
    for domain in sorted(set(domains)):
        record = parsed[domain]
        unique, duplicates, conflicting = _deduplicate(record["rows"])
        n_unique = len(unique) + conflicting
        cross = [t for t in unique if " ".join(t.split()) in seen]
        for text in cross:
            del unique[text]
        seen.update(" ".join(t.split()) for t in unique)
        parts = split_domain(unique, domain)
        for name in splits:
            splits[name] += parts[name]
        per_domain[domain] = {
            "rows": len(record["rows"]),
            "null_entries_skipped": record["null_entries"],
            "malformed_rows_skipped": record["malformed"],
            "unique": n_unique,
            "duplicates_removed": duplicates,
            "conflicting_label_texts_dropped": conflicting,
            "cross_domain_duplicates_removed": len(cross),
            "sizes": {name: len(part) for name, part in parts.items()},
        }
    for name, part in splits.items():
        random.Random(f"{SEED}-{name}").shuffle(part)
    info = {
        "source": f"npm {PACKAGE.spec} (sha256 {PACKAGE.sha256})",
        "domains": per_domain,
        "split_rule": ("dedup within each domain, then drop texts already seen in an earlier "
                       "domain (alphabetical order); per (domain, label): sort, shuffle with seed, "
                       "10% test, 10% dev (rounded half up), rest train"),
        "seed": SEED,
    }
    return TaskData(name="uci_sentiment", task="classification", train=splits["train"],
                    dev=splits["dev"], test=splits["test"], label_names=LABEL_NAMES, info=info)
