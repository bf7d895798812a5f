"""ElmanCell: golden numbers, the docstring equation, and equality with keras.layers.SimpleRNN."""
import keras
import numpy as np
import pytest
from keras import initializers, ops

from zoo.cells import ElmanCell

from .gradients import CASE_IDS, CASES, assert_same_as_keras, randomize_weights


def elman_reference(inputs, kernel, recurrent_kernel, bias):
    """h_t = tanh(W x_t + V h_{t-1} + b_h), from h_0 = 0; every h_t as (batch, time, units)."""
    h = np.zeros((inputs.shape[0], recurrent_kernel.shape[0]))
    outputs = []
    for x_t in np.moveaxis(inputs, 1, 0):
        h = np.tanh(x_t @ kernel + h @ recurrent_kernel + bias)
        outputs.append(h)
    return np.stack(outputs, axis=1)


def golden_inputs():
    return np.arange(24, dtype="float32").reshape(2, 3, 4) / 10


def test_golden_numbers_with_constant_initialisers():
    layer = keras.layers.RNN(
        ElmanCell(
            3,
            kernel_initializer=initializers.Constant(0.01),
            recurrent_initializer=initializers.Constant(0.02),
        ),
        return_sequences=True,
    )
    expected = np.array(
        [
            [
                [0.005999928, 0.005999928, 0.005999928],
                [0.02235627, 0.02235627, 0.02235627],
                [0.039321092, 0.039321092, 0.039321092],
            ],
            [
                [0.0539475731, 0.0539475731, 0.0539475731],
                [0.0731061961, 0.0731061961, 0.0731061961],
                [0.0901410304, 0.0901410304, 0.0901410304],
            ],
        ]
    )
    outputs = ops.convert_to_numpy(layer(golden_inputs()))
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-7)
    # The literals are the docstring equation evaluated by hand.
    reference = elman_reference(
        golden_inputs().astype("float64"), np.full((4, 3), 0.01), np.full((3, 3), 0.02), 0.0
    )
    np.testing.assert_allclose(reference, expected, rtol=1e-7)


def test_random_weights_follow_the_docstring_equation():
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(3, 6, 4)).astype("float32")
    layer = keras.layers.RNN(ElmanCell(4), return_sequences=True)
    layer(inputs)
    randomize_weights(layer, seed=1)
    kernel, recurrent_kernel, bias = layer.get_weights()
    np.testing.assert_allclose(
        ops.convert_to_numpy(layer(inputs)),
        elman_reference(inputs.astype("float64"), kernel, recurrent_kernel, bias),
        rtol=1e-5,
        atol=1e-6,
    )


def test_weight_shapes_match_simple_rnn_cell():
    cell = ElmanCell(3)
    cell.build((None, 5))
    assert [tuple(w.shape) for w in cell.weights] == [(5, 3), (3, 3), (3,)]
    assert [w.name for w in cell.weights] == ["kernel", "recurrent_kernel", "bias"]


@pytest.mark.parametrize(("direction", "copy", "masked"), CASES, ids=CASE_IDS)
def test_same_outputs_and_gradients_as_keras_simple_rnn(direction, copy, masked):
    assert_same_as_keras(
        lambda **kw: keras.layers.RNN(ElmanCell(3), return_sequences=True, **kw),
        lambda **kw: keras.layers.SimpleRNN(3, return_sequences=True, **kw),
        direction,
        copy,
        masked,
    )


def test_dropped_input_units_are_the_same_at_every_step():
    """Identity input kernel, no recurrence: h_t = tanh(m * x_t / (1 - rate)) is 0 where dropped."""
    units, steps = 4, 6
    layer = keras.layers.RNN(ElmanCell(units, dropout=0.5, seed=11), return_sequences=True)
    inputs = np.ones((5, steps, units), dtype="float32")
    layer(inputs)
    layer.set_weights([np.eye(units), np.zeros((units, units)), np.zeros(units)])

    outputs = ops.convert_to_numpy(layer(inputs, training=True))
    dropped = outputs == 0.0
    assert dropped.any() and not dropped.all()
    np.testing.assert_array_equal(dropped, np.repeat(dropped[:, :1], steps, axis=1))
    np.testing.assert_allclose(outputs[~dropped], np.tanh(2.0), rtol=1e-6)  # kept: x / (1 - 0.5)
    np.testing.assert_allclose(ops.convert_to_numpy(layer(inputs)), np.tanh(1.0), rtol=1e-6)


def test_dropped_recurrent_units_are_the_same_at_every_step():
    """No input kernel, identity recurrence, bias 1: a unit whose h_{t-1} is dropped is tanh(1)."""
    units, steps = 4, 6
    layer = keras.layers.RNN(
        ElmanCell(units, recurrent_dropout=0.5, seed=12), return_sequences=True
    )
    inputs = np.ones((5, steps, 2), dtype="float32")
    layer(inputs)
    layer.set_weights([np.zeros((2, units)), np.eye(units), np.ones(units)])

    outputs = ops.convert_to_numpy(layer(inputs, training=True))
    np.testing.assert_allclose(outputs[:, 0], np.tanh(1.0), rtol=1e-6)  # h_0 = 0
    dropped = np.isclose(outputs[:, 1:], np.tanh(1.0), rtol=0, atol=1e-7)
    assert dropped.any() and not dropped.all()
    np.testing.assert_array_equal(dropped, np.repeat(dropped[:, :1], steps - 1, axis=1))
