"""The cuDNN paths on a real GPU; skipped where the Keras backend sees none.

TensorFlow need not be installed: on a GPU machine with PyTorch,

    KERAS_BACKEND=torch python -m pytest -m gpu tests/layers/test_gpu_paths.py

checks that `implementation="auto"` takes Keras' cuDNN kernel there (on torch through
`zoo.layers.LSTMByLengths` / `GRUByLengths`, which give right-padded batches to cuDNN without a
mask), and that it computes what the zoo's own cells compute with the same weights, padded batches
and the pooled final states included. (Without a GPU, `tests/layers/test_encoder.py` checks the
cuDNN conditions on the layers' settings, and `tests/layers/test_by_lengths.py` the route's logic.)
"""
import numpy as np
import pytest

import keras

import zoo.models as zm
from zoo.layers.encoder import visible_gpus

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not visible_gpus(), reason="needs a GPU visible to the Keras backend"),
]

PAD = 0


def _exact_float32():
    """cuDNN and cuBLAS may use TF32 for float32 on Ampere and later; compare in full float32."""
    if keras.backend.backend() == "torch":
        import torch

        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False


def _acceptor(cell, implementation, bidirectional=False):
    config = zm.AcceptorConfig(
        vocabulary_size=50, embedding_dim=16, num_classes=3,
        encoder=zm.EncoderConfig(cell=cell, implementation=implementation, units=32,
                                 bidirectional=bidirectional, pooling="final"))
    return zm.acceptor(config)


def _right_padded_batch(rng, lengths, width):
    ids = np.full((len(lengths), width), PAD, dtype="int32")
    for row, length in enumerate(lengths):
        ids[row, :length] = rng.integers(1, 50, size=length)
    return ids


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_auto_takes_the_cudnn_path_on_a_gpu_with_a_padded_batch(cell, bidirectional, monkeypatch):
    model = _acceptor(cell, "auto", bidirectional)
    path = model.get_layer("encoder").code_path
    assert path["implementation"] == "builtin" and path["cudnn_eligible"] and path["gpu_visible"]
    if keras.backend.backend() != "torch":
        return
    assert "padding" in path  # torch: right-padded batches go by lengths, without a mask
    from zoo.layers import GRUByLengths, LSTMByLengths

    first = model.get_layer("encoder").recurrent_layers[0]
    direction = first.forward_layer if bidirectional else first
    assert type(direction) is {"lstm": LSTMByLengths, "gru": GRUByLengths}[cell]
    # Keras falls back to its generic loop when cuDNN refuses; count the calls to the kernel.
    import importlib

    torch_rnn = importlib.import_module("keras.src.backend.torch.rnn")
    kernel = f"_cudnn_{cell}"
    calls = []
    original = getattr(torch_rnn, kernel)
    monkeypatch.setattr(torch_rnn, kernel, lambda *a, **k: calls.append(1) or original(*a, **k))
    ids = _right_padded_batch(np.random.default_rng(0), [7, 3, 5], width=7)
    model.predict_on_batch(ids)
    assert len(calls) == (2 if bidirectional else 1), f"Keras' {cell.upper()} did not run the cuDNN kernel"


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_cudnn_path_equals_the_zoo_cell_with_the_same_weights(cell, bidirectional):
    _exact_float32()
    cudnn = _acceptor(cell, "auto", bidirectional)
    own = _acceptor(cell, "custom", bidirectional)
    own.set_weights(cudnn.get_weights())
    rng = np.random.default_rng(1)
    ids = _right_padded_batch(rng, [9, 4, 1, 6], width=9)
    difference = np.max(np.abs(cudnn.predict_on_batch(ids) - own.predict_on_batch(ids)))
    print(f"{cell} bidirectional={bidirectional}: max |cuDNN - zoo cell| = {difference:.2e}")
    assert difference < 1e-5


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_padded_batch_predicts_what_each_example_predicts_alone_on_the_gpu(cell):
    _exact_float32()
    model = _acceptor(cell, "auto", bidirectional=True)
    rng = np.random.default_rng(2)
    lengths = [8, 2, 5]
    batch = _right_padded_batch(rng, lengths, width=8)
    together = model.predict_on_batch(batch)
    for row, length in enumerate(lengths):
        alone = model.predict_on_batch(batch[row:row + 1, :length])
        np.testing.assert_allclose(together[row], alone[0], atol=1e-5)


def test_training_on_the_cudnn_path_lowers_the_loss():
    model = _acceptor("lstm", "auto")
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(3)
    ids = _right_padded_batch(rng, rng.integers(1, 12, size=64), width=12)
    labels = (ids[:, 0] % 3).astype("int32")  # learnable from the first token
    first = model.train_on_batch(ids, labels)
    for _ in range(30):
        last = model.train_on_batch(ids, labels)
    assert float(last) < 0.5 * float(first)
