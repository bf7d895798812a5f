"""GRUCell: golden numbers, the docstring equations, bias layout, and equality with keras GRU."""
import keras
import numpy as np
import pytest
from keras import initializers, ops

from zoo.cells import GRUCell

from .gradients import CASE_IDS, CASES, assert_same_as_keras, randomize_weights


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def gru_reference(inputs, kernel, recurrent_kernel, bias):
    """The docstring's reset-after equations, gate order (z, r, h), from h_0 = 0; every h_t."""
    units = recurrent_kernel.shape[0]
    input_bias, recurrent_bias = bias
    blocks = lambda a: (a[:, k * units : (k + 1) * units] for k in range(3))  # noqa: E731
    h = np.zeros((inputs.shape[0], units))
    outputs = []
    for x_t in np.moveaxis(inputs, 1, 0):
        x_z, x_r, x_h = blocks(x_t @ kernel + input_bias)
        h_z, h_r, h_h = blocks(h @ recurrent_kernel + recurrent_bias)
        z = sigmoid(x_z + h_z)
        r = sigmoid(x_r + h_r)
        g = np.tanh(x_h + r * h_h)
        h = z * h + (1.0 - z) * g
        outputs.append(h)
    return np.stack(outputs, axis=1)


def golden_inputs():
    return np.arange(24, dtype="float32").reshape(2, 3, 4) / 10


def test_golden_numbers_with_constant_initialisers():
    layer = keras.layers.RNN(
        GRUCell(
            3,
            kernel_initializer=initializers.Constant(0.01),
            recurrent_initializer=initializers.Constant(0.02),
        ),
        return_sequences=True,
    )
    expected = np.array(
        [
            [
                [0.00299096414, 0.00299096414, 0.00299096414],
                [0.0124331664, 0.0124331664, 0.0124331664],
                [0.025146154, 0.025146154, 0.025146154],
            ],
            [
                [0.0262456713, 0.0262456713, 0.0262456713],
                [0.0476764682, 0.0476764682, 0.0476764682],
                [0.0665948203, 0.0665948203, 0.0665948203],
            ],
        ]
    )
    outputs = ops.convert_to_numpy(layer(golden_inputs()))
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-7)
    # The literals are the docstring equations evaluated by hand (bias zeros).
    reference = gru_reference(
        golden_inputs().astype("float64"),
        np.full((4, 9), 0.01),
        np.full((3, 9), 0.02),
        np.zeros((2, 9)),
    )
    np.testing.assert_allclose(reference, expected, rtol=1e-7)


def test_random_weights_follow_the_docstring_equations():
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(3, 6, 4)).astype("float32")
    layer = keras.layers.RNN(GRUCell(4), return_sequences=True)
    layer(inputs)
    randomize_weights(layer, seed=1)
    kernel, recurrent_kernel, bias = layer.get_weights()
    assert not np.allclose(bias[0], bias[1])  # input and recurrent biases enter differently
    np.testing.assert_allclose(
        ops.convert_to_numpy(layer(inputs)),
        gru_reference(inputs.astype("float64"), kernel, recurrent_kernel, bias),
        rtol=1e-5,
        atol=1e-6,
    )


def test_weight_shapes_and_bias_has_input_and_recurrent_rows():
    units = 3
    cell = GRUCell(units)
    cell.build((None, 5))
    shapes = [tuple(w.shape) for w in cell.weights]
    assert shapes == [(5, 3 * units), (units, 3 * units), (2, 3 * units)]
    np.testing.assert_array_equal(ops.convert_to_numpy(cell.bias), 0.0)


@pytest.mark.parametrize(("direction", "copy", "masked"), CASES, ids=CASE_IDS)
def test_same_outputs_and_gradients_as_keras_gru(direction, copy, masked):
    assert_same_as_keras(
        lambda **kw: keras.layers.RNN(GRUCell(3), return_sequences=True, **kw),
        # reset_after=True is Keras' default and the cell's form; the generic (non-cuDNN) kernel
        # keeps the comparison the same on a GPU machine.
        lambda **kw: keras.layers.GRU(
            3, return_sequences=True, reset_after=True, use_cudnn=False, **kw
        ),
        direction,
        copy,
        masked,
    )
