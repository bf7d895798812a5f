"""Embeddings: GloVe text reader and its errors, the matrix, the coverage report, the 3 modes."""
import gzip
import json

import numpy as np
import pytest

from zoo import embeddings as em

GLOVE = """the 0.1 0.2 0.3
cat 1.0 -1.0 0.5
sat -0.5 0.25 2e-1
paris 3 3 3
. 0 0 1
"""


def write(tmp_path, text, name="glove.test.3d.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_glove_text(tmp_path):
    words, vectors = em.read_glove_text(write(tmp_path, GLOVE))
    assert words == ["the", "cat", "sat", "paris", "."]
    assert vectors.dtype == np.float32 and vectors.shape == (5, 3)
    np.testing.assert_allclose(vectors[2], [-0.5, 0.25, 0.2])
    words, _ = em.read_glove_text(write(tmp_path, GLOVE), dim=3)
    assert len(words) == 5


def test_read_glove_words_with_spaces_header_gz_duplicates_blank_lines(tmp_path):
    text = "3 2\n. . . 0.5 0.5\nat name@domain.com 1 2\n\nthe 3 4\nthe 9 9\n"
    words, vectors = em.read_glove_text(write(tmp_path, text))
    assert words == [". . .", "at name@domain.com", "the"]
    np.testing.assert_array_equal(vectors, [[0.5, 0.5], [1, 2], [3, 4]])  # first "the" kept
    gz = tmp_path / "glove.txt.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as handle:
        handle.write(GLOVE)
    assert em.read_glove_text(gz)[0] == ["the", "cat", "sat", "paris", "."]
    crlf = write(tmp_path, GLOVE.replace("\n", " \r\n"), "crlf.txt")
    assert em.read_glove_text(crlf)[1].shape == (5, 3)


@pytest.mark.parametrize("bad_line, message", [
    ("dog 1.0 2.0", "2 values, expected 3"),               # too few values
    ("dog 1.0 2.0 3.0 4.0", "4 values, expected 3"),       # too many values
    ("dog 1.0 abc 3.0", "non-numeric"),
    ("dog 1.0 nan 3.0", "NaN or infinite"),
    ("dog 1.0 inf 3.0", "NaN or infinite"),
    ("dog 1.0 -Infinity 3.0", "NaN or infinite"),
    ("dog 1e39 0 0", "float32 range"),
    ("dog", "values, expected 3"),
])
def test_malformed_line_names_its_number(tmp_path, bad_line, message):
    path = write(tmp_path, "the 0.1 0.2 0.3\ncat 1 2 3\n" + bad_line + "\nsat 1 1 1\n")
    with pytest.raises(ValueError, match=f"line 3: .*{message}") as error:
        em.read_glove_text(path)
    assert str(path) in str(error.value)


def test_wrong_dimension_against_expected_dim(tmp_path):
    with pytest.raises(ValueError, match="line 1: 3 values, expected 4"):
        em.read_glove_text(write(tmp_path, GLOVE), dim=4)


def test_empty_and_undecodable_files(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        em.read_glove_text(write(tmp_path, ""))
    with pytest.raises(ValueError, match="empty"):
        em.read_glove_text(write(tmp_path, "\n  \n"))
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"the 1 2\ncaf\xe9 1 2\n")
    with pytest.raises(ValueError, match="line 2: not UTF-8"):
        em.read_glove_text(path)
    with pytest.raises(ValueError, match="line 1: a word without a vector"):
        em.read_glove_text(write(tmp_path, "lonely\n"))


VOCABULARY = ["", "[UNK]", "the", "cat", "Paris", "zyzzyva", "sat", "qwxz"]
COUNTS = {"the": 50, "cat": 10, "Paris": 5, "zyzzyva": 3, "sat": 2, "qwxz": 7}


def test_matrix_rows_and_coverage_on_a_tiny_file(tmp_path):
    words, vectors = em.read_glove_text(write(tmp_path, GLOVE))
    matrix, report = em.build_embedding_matrix(VOCABULARY, words, vectors, seed=0,
                                               token_counts=COUNTS)
    assert matrix.dtype == np.float32 and matrix.shape == (8, 3)
    np.testing.assert_array_equal(matrix[0], 0)
    np.testing.assert_array_equal(matrix[2], vectors[0])
    np.testing.assert_array_equal(matrix[3], vectors[1])
    np.testing.assert_array_equal(matrix[4], vectors[3])  # "Paris" found as "paris"
    np.testing.assert_array_equal(matrix[6], vectors[2])
    assert report.vocabulary_size == 6
    assert report.types_found == 4 and report.types_found_lowercased == 1
    assert report.type_coverage == pytest.approx(4 / 6)
    assert report.tokens_total == 77 and report.tokens_found == 67
    assert report.token_coverage == pytest.approx(67 / 77)
    assert report.top_missing == (("qwxz", 7), ("zyzzyva", 3))
    text = str(report)
    assert "66.7%" in text and "87.0%" in text and "qwxz (7)" in text
    assert "make sure GloVe contains the words you need" in text
    assert em.CoverageReport.from_json(report.to_json()) == report
    assert json.loads(report.to_json())["top_missing"] == [["qwxz", 7], ["zyzzyva", 3]]
    report.save(tmp_path / "coverage.json")
    assert json.loads((tmp_path / "coverage.json").read_text())["types_found"] == 4


def test_missing_words_drawn_from_per_dimension_statistics():
    rng = np.random.default_rng(0)
    vectors = (rng.normal(size=(2000, 4)) * [1, 2, 3, 0.5] + [10, -5, 0, 1]).astype(np.float32)
    words = [f"g{i}" for i in range(2000)]
    vocabulary = ["", "[UNK]"] + [f"new{i}" for i in range(5000)]
    matrix, report = em.build_embedding_matrix(vocabulary, words, vectors, seed=3)
    assert report.types_found == 0 and report.token_coverage is None
    assert report.top_missing[0] == ("new0", None)
    drawn = matrix[1:]
    np.testing.assert_allclose(drawn.mean(axis=0), vectors.mean(axis=0), atol=0.1)
    np.testing.assert_allclose(drawn.std(axis=0), vectors.std(axis=0), rtol=0.05)
    again, _ = em.build_embedding_matrix(vocabulary, words, vectors, seed=3)
    other, _ = em.build_embedding_matrix(vocabulary, words, vectors, seed=4)
    np.testing.assert_array_equal(matrix, again)
    assert not np.array_equal(matrix, other)


def test_matrix_argument_checks(tmp_path):
    words, vectors = em.read_glove_text(write(tmp_path, GLOVE))
    with pytest.raises(ValueError, match="padding"):
        em.build_embedding_matrix(["the", "cat"], words, vectors)
    with pytest.raises(ValueError, match="one vector per word"):
        em.build_embedding_matrix(VOCABULARY, words[:2], vectors)


def test_embedding_layer_modes():
    import keras

    matrix = np.arange(12, dtype=np.float32).reshape(4, 3)
    frozen = em.make_embedding_layer("glove_frozen", matrix)
    tuned = em.make_embedding_layer("glove_finetuned", matrix)
    learned = em.make_embedding_layer("learned", 4, 3, seed=1)
    for layer in (frozen, tuned, learned):
        assert isinstance(layer, keras.layers.Embedding) and layer.mask_zero is False
    assert frozen.trainable is False and frozen.trainable_weights == []
    assert tuned.trainable is True and len(tuned.trainable_weights) == 1
    np.testing.assert_array_equal(frozen.get_weights()[0], matrix)
    np.testing.assert_array_equal(tuned.get_weights()[0], matrix)
    np.testing.assert_array_equal(frozen(np.array([[2, 0]])).numpy()[0], matrix[[2, 0]])
    learned.build()
    assert learned.get_weights()[0].shape == (4, 3)
    assert np.abs(learned.get_weights()[0]).max() <= 0.05
    assert "weights" not in json.dumps(frozen.get_config())  # the matrix is not in the config
    assert em.make_embedding_layer("learned", matrix).input_dim == 4


def test_frozen_stays_fixed_and_finetuned_moves_in_training():
    import keras

    matrix = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    ids = np.array([[1, 2, 3], [4, 5, 0]])
    labels = np.array([0.0, 1.0])
    trained = {}
    for mode in ("glove_frozen", "glove_finetuned"):
        layer = em.make_embedding_layer(mode, matrix)
        model = keras.Sequential([keras.Input((3,), dtype="int32"), layer,
                                  keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
        model.fit(ids, labels, epochs=2, verbose=0)
        trained[mode] = layer.get_weights()[0]
    np.testing.assert_array_equal(trained["glove_frozen"], matrix)
    assert not np.allclose(trained["glove_finetuned"], matrix)


def test_embedding_layer_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        em.make_embedding_layer("glove", np.zeros((2, 2)))
    with pytest.raises(ValueError, match="needs the embedding matrix"):
        em.make_embedding_layer("glove_frozen", 10, 3)
    with pytest.raises(ValueError, match="dim is required"):
        em.make_embedding_layer("learned", 10)
    assert em.EMBEDDING_MODES == ("learned", "glove_frozen", "glove_finetuned")


@pytest.mark.slow
def test_packaged_glove_6b_50d_and_real_coverage():
    words, vectors = em.load_glove()
    assert len(words) == 400000 and vectors.shape == (400000, 50) and words[0] == "the"
    vocabulary = ["", "[UNK]", "the", "movie", "n't", "'s", ",", "Paris", "qwxzqwxz"]
    matrix, report = em.build_embedding_matrix(vocabulary, words, vectors, seed=0)
    assert report.types_found == 6 and report.types_found_lowercased == 1
    assert report.top_missing == (("qwxzqwxz", None),)
    np.testing.assert_array_equal(matrix[2], vectors[0])
