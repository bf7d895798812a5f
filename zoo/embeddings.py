"""Word embeddings: the three modes, GloVe readers, the embedding matrix and its coverage report.

The lecture's three ways to get a word's vector, chosen by a config field (`EMBEDDING_MODES`):
  - `"learned"`: a randomly initialised `Embedding`, trained from scratch with the model;
  - `"glove_frozen"`: GloVe vectors, not trained (`trainable=False`);
  - `"glove_finetuned"`: GloVe vectors as the initial value, trained with the model.

No TensorFlow here: numpy for the files and the matrix, Keras for the layer.

Examples:
    >>> from zoo.embeddings import load_glove, build_embedding_matrix, make_embedding_layer
    >>> words, vectors = load_glove()  # packaged GloVe 6B 50d (76 MB, downloaded once)
    >>> matrix, report = build_embedding_matrix(vectorizer.get_vocabulary(), words, vectors,
    ...                                         seed=0, token_counts=counts)
    >>> print(report)
    >>> layer = make_embedding_layer("glove_frozen", matrix)
"""
from __future__ import annotations

import dataclasses
import gzip
import json
import os
from collections.abc import Mapping, Sequence

import numpy as np

EMBEDDING_MODES = ("learned", "glove_frozen", "glove_finetuned")
PADDING_INDEX = 0
OOV_INDEX = 1
_SPECIAL_TOKENS = ("", "[UNK]")


def _open_lines(path):
    if str(path).endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def _parse_floats(fields, line_number, path):
    try:
        values = np.array([float(field) for field in fields], dtype=np.float64)
    except ValueError:
        bad = next(field for field in fields if not _is_float(field))
        raise ValueError(f"{path}, line {line_number}: non-numeric value {bad[:40]!r}") from None
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{path}, line {line_number}: NaN or infinite value")
    if np.any(np.abs(values) > np.finfo(np.float32).max):
        raise ValueError(f"{path}, line {line_number}: value out of float32 range")
    return values


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_glove_text(path: str | os.PathLike, dim: int | None = None
                    ) -> tuple[list[str], np.ndarray]:
    """Reads a GloVe-format text file: a word, then its `dim` floats, space-separated, a line each.

    Also reads `.gz` files and word2vec text files (a first line `count dim` is skipped). Words
    that contain spaces (GloVe 840B has some) are read by taking the LAST `dim` fields as the
    vector and the rest as the word. Blank lines are skipped; a repeated word keeps its first
    vector.

    Args:
        path: file path.
        dim: expected dimension; None infers it from the first line (fields - 1).

    Returns:
        `(words, vectors)`: list of `str`, float32 array (len(words), dim).

    Raises:
        ValueError: (with the path and the 1-based line number) a line with too few values, or
            with more values than `dim` (extra fields that are all numbers), a non-numeric value,
            NaN or infinity, text that is not UTF-8, or a file without any vector.
    """
    words: list[str] = []
    rows: list[np.ndarray] = []
    seen: set[str] = set()
    with _open_lines(path) as handle:
        for line_number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ValueError(
                    f"{path}, line {line_number}: not UTF-8 ({error.reason})") from None
            line = line.rstrip("\r\n").rstrip(" ")
            if not line.strip():
                continue
            fields = line.split(" ")
            if line_number == 1 and len(fields) == 2 and all(f.isdigit() for f in fields):
                if dim is not None and int(fields[1]) != dim:
                    raise ValueError(
                        f"{path}, line 1: header says dimension {fields[1]}, expected {dim}")
                dim = int(fields[1])
                continue
            if dim is None:
                dim = len(fields) - 1
                if dim < 1:
                    raise ValueError(f"{path}, line {line_number}: a word without a vector")
            word_fields = fields[: len(fields) - dim]
            if len(fields) < dim + 1 or (
                    len(word_fields) > 1 and all(_is_float(f) for f in word_fields[1:])):
                raise ValueError(
                    f"{path}, line {line_number}: {len(fields) - 1} values, expected {dim}")
            values = _parse_floats(fields[-dim:], line_number, path)
            word = " ".join(word_fields)
            if word in seen:
                continue
            seen.add(word)
            words.append(word)
            rows.append(values)
    if not rows:
        raise ValueError(f"{path}: no vectors (empty file)")
    return words, np.asarray(rows, dtype=np.float32)


def load_glove(path: str | os.PathLike | None = None, dim: int | None = None, *,
               data_dir: str | os.PathLike | None = None) -> tuple[list[str], np.ndarray]:
    """GloVe vectors: the packaged 6B 50d set (path None), or any GloVe-format text file.

    Args:
        path: None for `zoo.data.glove.load_glove_6b_50d()` (downloaded and cached by the data
            module), else a `glove.*.txt` (or `.gz`) file for `read_glove_text`.
        dim: expected dimension of a text file (None: inferred).
        data_dir: cache root for the packaged vectors (passed to `load_glove_6b_50d`).
    """
    if path is None:
        from zoo.data.glove import load_glove_6b_50d  # lazy: the package download lives there

        words, vectors = load_glove_6b_50d(data_dir=data_dir)
        return list(words), np.ascontiguousarray(vectors, dtype=np.float32)
    return read_glove_text(path, dim)


@dataclasses.dataclass(frozen=True)
class CoverageReport:
    """How much of a vocabulary (and of the training text) the pretrained vectors cover.

    Special tokens (padding, OOV) are not counted. Types are vocabulary entries; tokens are
    their occurrences in the training text (`token_counts`), so `token_coverage` is None when no
    counts were given.

    Attributes:
        vocabulary_size: types considered (vocabulary without the two special tokens).
        types_found: types with a pretrained vector (exact or lowercased).
        types_found_lowercased: of those, types found only through their lowercase form.
        type_coverage: `types_found / vocabulary_size`.
        tokens_total, tokens_found, token_coverage: the same over training tokens.
        top_missing: most frequent types without a vector, `(word, count)` (count None without
            token counts; then in vocabulary order).
        dim: vector dimension.
        pretrained_size: number of pretrained vectors available.
        fill: how vectors for missing words were drawn.
    """

    vocabulary_size: int
    types_found: int
    types_found_lowercased: int
    type_coverage: float
    tokens_total: int | None
    tokens_found: int | None
    token_coverage: float | None
    top_missing: tuple[tuple[str, int | None], ...]
    dim: int
    pretrained_size: int
    fill: str

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["top_missing"] = [list(item) for item in self.top_missing]
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> CoverageReport:
        data = json.loads(text)
        data["top_missing"] = tuple(tuple(item) for item in data["top_missing"])
        return cls(**data)

    def save(self, path: str | os.PathLike) -> None:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(self.to_json() + "\n")

    def __str__(self) -> str:
        lines = [f"GloVe coverage ({self.pretrained_size} vectors, {self.dim}d): "
                 f"{self.types_found}/{self.vocabulary_size} vocabulary types "
                 f"({100 * self.type_coverage:.1f}%; {self.types_found_lowercased} via lowercase)"]
        if self.token_coverage is not None:
            lines.append(f"  {self.tokens_found}/{self.tokens_total} training tokens "
                         f"({100 * self.token_coverage:.1f}%)")
        if self.top_missing:
            shown = ", ".join(word if count is None else f"{word} ({count})"
                              for word, count in self.top_missing)
            lines.append(f"  most frequent missing: {shown}")
            lines.append(f"  missing words start from {self.fill}; make sure GloVe contains the "
                         "words you need (tokenization and case must match the vectors').")
        return "\n".join(lines)


def build_embedding_matrix(vocabulary: Sequence[str], words: Sequence[str], vectors: np.ndarray,
                           seed: int = 0, token_counts: Mapping[str, int] | None = None,
                           top_missing: int = 20) -> tuple[np.ndarray, CoverageReport]:
    """The embedding matrix for `vocabulary` from pretrained vectors, and its coverage report.

    Row 0 (padding) is zeros. Every other row, OOV (row 1) included, starts from a normal draw
    with GloVe's PER-DIMENSION mean and standard deviation (over all given vectors); rows whose
    word has a pretrained vector then take it. Lookup tries the word itself, then its lowercase
    form. The draw covers the whole matrix before the copy, so a row's random value depends on
    the seed and its index only.

    Args:
        vocabulary: `vectorizer.get_vocabulary()`; index 0 padding `""`, index 1 OOV `"[UNK]"`.
        words, vectors: pretrained words and their float vectors (n, dim), e.g. `load_glove()`.
        seed: seed of the draw for missing words.
        token_counts: training-token counts per type (e.g. `count_word_tokens(train_texts)`),
            for the token coverage and to rank the missing words.
        top_missing: how many missing words the report lists.

    Returns:
        `(matrix float32 (len(vocabulary), dim), CoverageReport)`.
    """
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or len(words) != vectors.shape[0]:
        raise ValueError(f"need one vector per word: {len(words)} words, vectors {vectors.shape}")
    if len(vocabulary) < 2 or tuple(vocabulary[:2]) != _SPECIAL_TOKENS:
        raise ValueError("vocabulary must start with the padding '' and OOV '[UNK]' tokens, got "
                         f"{list(vocabulary[:2])}")
    dim = vectors.shape[1]
    index = {}
    for row, word in enumerate(words):
        index.setdefault(word, row)
    mean = vectors.mean(axis=0, dtype=np.float64)
    std = vectors.std(axis=0, dtype=np.float64)
    rng = np.random.default_rng(seed)
    matrix = rng.normal(mean, std, size=(len(vocabulary), dim)).astype(np.float32)
    matrix[PADDING_INDEX] = 0.0

    found = found_lower = 0
    tokens_total = tokens_found = 0
    missing = []
    for position, word in enumerate(vocabulary[2:], start=2):
        word = str(word)
        row = index.get(word)
        if row is None:
            row = index.get(word.lower())
            if row is not None:
                found_lower += 1
        count = None if token_counts is None else int(token_counts.get(word, 0))
        if count is not None:
            tokens_total += count
        if row is None:
            missing.append((position, word, count))
            continue
        matrix[position] = vectors[row]
        found += 1
        if count is not None:
            tokens_found += count
    if token_counts is not None:
        missing.sort(key=lambda item: (-item[2], item[0]))
    types = len(vocabulary) - 2
    report = CoverageReport(
        vocabulary_size=types,
        types_found=found,
        types_found_lowercased=found_lower,
        type_coverage=found / types if types else 0.0,
        tokens_total=tokens_total if token_counts is not None else None,
        tokens_found=tokens_found if token_counts is not None else None,
        token_coverage=(tokens_found / tokens_total if tokens_total else 0.0)
        if token_counts is not None else None,
        top_missing=tuple((word, count) for _, word, count in missing[:top_missing]),
        dim=dim,
        pretrained_size=len(words),
        fill=f"a normal draw with GloVe's per-dimension mean and std (seed {seed})",
    )
    return matrix, report


def make_embedding_layer(mode: str, matrix_or_vocab_size, dim: int | None = None, *,
                         name: str = "embedding", seed: int | None = None):
    """A `keras.layers.Embedding` for one of `EMBEDDING_MODES`.

    `mask_zero=False`: the zoo passes masks explicitly. The pretrained matrix is loaded as the
    layer's weights (not an initializer), so it is not copied into the model's config; it is
    saved with the weights.

    Args:
        mode: `"learned"`, `"glove_frozen"` or `"glove_finetuned"`.
        matrix_or_vocab_size: the (vocab, dim) matrix from `build_embedding_matrix` (required for
            the GloVe modes; for `"learned"` only its shape is used), or, for `"learned"`, the
            vocabulary size (int).
        dim: embedding width for `"learned"` with an int vocabulary size.
        name: layer name.
        seed: seed of the `"learned"` uniform initializer.

    Returns:
        `keras.layers.Embedding`; `trainable` is False only for `"glove_frozen"`.
    """
    import keras  # only this helper needs Keras

    if mode not in EMBEDDING_MODES:
        raise ValueError(f"mode must be one of {EMBEDDING_MODES}, got {mode!r}")
    if isinstance(matrix_or_vocab_size, int | np.integer):
        if mode != "learned":
            raise ValueError(f"mode {mode!r} needs the embedding matrix, not a vocabulary size")
        if dim is None:
            raise ValueError("dim is required with a vocabulary size")
        vocab_size, matrix = int(matrix_or_vocab_size), None
    else:
        matrix = np.asarray(matrix_or_vocab_size, dtype=np.float32)
        if matrix.ndim != 2:
            raise ValueError(f"matrix must be 2-D, got shape {matrix.shape}")
        if dim is not None and dim != matrix.shape[1]:
            raise ValueError(f"dim {dim} does not match the matrix width {matrix.shape[1]}")
        vocab_size, dim = matrix.shape
    if mode == "learned":
        return keras.layers.Embedding(
            vocab_size, dim, mask_zero=False, name=name,
            embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05, seed=seed))
    return keras.layers.Embedding(vocab_size, dim, mask_zero=False, name=name, weights=matrix,
                                  trainable=(mode == "glove_finetuned"))


def coverage_summary(report: CoverageReport) -> str:
    """One line for logs: type and token coverage in percent."""
    token = "n/a" if report.token_coverage is None else f"{100 * report.token_coverage:.1f}%"
    return f"GloVe covers {100 * report.type_coverage:.1f}% of types, {token} of tokens"


__all__ = [
    "EMBEDDING_MODES", "CoverageReport", "read_glove_text", "load_glove",
    "build_embedding_matrix", "make_embedding_layer", "coverage_summary",
]
