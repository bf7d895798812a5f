"""PretrainedTailEmbedding: the open vocabulary's frozen rows."""
import numpy as np
import pytest

import keras

from zoo.layers import PretrainedTailEmbedding

MATRIX = np.arange(6 * 3, dtype="float32").reshape(6, 3) / 10  # 6 ids, the last 2 frozen


def tail_embedding(trainable=True):
    layer = PretrainedTailEmbedding(6, 3, frozen_rows=2, name="embedding", trainable=trainable)
    layer.set_matrix(MATRIX)
    return layer


def test_it_looks_up_rows_of_the_whole_matrix():
    layer = tail_embedding()
    ids = np.array([[0, 3, 4, 5], [5, 1, 2, 0]])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(ids)), MATRIX[ids])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.embeddings), MATRIX)
    assert [w.name for w in layer.trainable_weights] == ["trained_embeddings"]
    assert [w.name for w in layer.non_trainable_weights] == ["frozen_embeddings"]
    assert not tail_embedding(trainable=False).trainable_weights


def test_training_moves_the_trained_rows_only(tmp_path):
    inputs = keras.Input((None,), dtype="int32")
    outputs = keras.layers.Dense(2, activation="softmax")(keras.ops.mean(tail_embedding()(inputs), axis=1))
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(0.1), "sparse_categorical_crossentropy")
    ids = np.array([[2, 3], [4, 5], [3, 4]])  # the frozen ids 4 and 5 take part
    model.fit(ids, np.array([0, 1, 1]), epochs=3, verbose=0)
    after = keras.ops.convert_to_numpy(model.get_layer("embedding").embeddings)
    np.testing.assert_array_equal(after[4:], MATRIX[4:])
    assert np.abs(after[2:4] - MATRIX[2:4]).min() > 1e-3
    model.save(tmp_path / "tail.keras")
    loaded = keras.saving.load_model(tmp_path / "tail.keras", safe_mode=True)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded.get_layer("embedding").embeddings), after)


def test_bad_sizes_are_refused_by_name():
    with pytest.raises(ValueError, match="frozen_rows must be between 1 and input_dim - 2"):
        PretrainedTailEmbedding(4, 3, frozen_rows=3)
    with pytest.raises(ValueError, match=r"the matrix has shape \(5, 3\)"):
        tail_embedding().set_matrix(np.zeros((5, 3)))
