"""GatedElmanCell: golden numbers, the docstring equations, and the gradient a forget gate keeps."""
import keras
import numpy as np
from keras import initializers, ops

from zoo.cells import ElmanCell, GatedElmanCell

from .gradients import loss_and_gradients, randomize_weights


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def gated_elman_reference(inputs, kernel, recurrent_kernel, bias):
    """f_t = sigmoid(W_xf x_t + W_hf h_{t-1} + b_f); h_t = h_{t-1} f_t + tanh(W x_t + b).

    `kernel` = [W_xf | W], `bias` = [b_f | b]; from h_0 = 0; returns every h_t.
    """
    units = recurrent_kernel.shape[0]
    forget_kernel, candidate_kernel = kernel[:, :units], kernel[:, units:]
    forget_bias, candidate_bias = bias[:units], bias[units:]
    h = np.zeros((inputs.shape[0], units))
    outputs = []
    for x_t in np.moveaxis(inputs, 1, 0):
        f = sigmoid(x_t @ forget_kernel + h @ recurrent_kernel + forget_bias)
        h = h * f + np.tanh(x_t @ candidate_kernel + candidate_bias)
        outputs.append(h)
    return np.stack(outputs, axis=1)


def golden_inputs():
    return np.arange(24, dtype="float32").reshape(2, 3, 4) / 10


def test_golden_numbers_with_constant_initialisers():
    layer = keras.layers.RNN(
        GatedElmanCell(
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
                [0.0264089907, 0.0264089907, 0.0264089907],
                [0.0574918856, 0.0574918856, 0.0574918856],
            ],
            [
                [0.0539475731, 0.0539475731, 0.0539475731],
                [0.110088269, 0.110088269, 0.110088269],
                [0.168230628, 0.168230628, 0.168230628],
            ],
        ]
    )
    outputs = ops.convert_to_numpy(layer(golden_inputs()))
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-7)
    # The literals are the docstring equations evaluated by hand (default b_f = 1, b = 0).
    bias = np.concatenate([np.ones(3), np.zeros(3)])
    reference = gated_elman_reference(
        golden_inputs().astype("float64"), np.full((4, 6), 0.01), np.full((3, 3), 0.02), bias
    )
    np.testing.assert_allclose(reference, expected, rtol=1e-7)


def test_random_weights_follow_the_docstring_equations():
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(3, 6, 4)).astype("float32")
    layer = keras.layers.RNN(GatedElmanCell(4), return_sequences=True)
    layer(inputs)
    randomize_weights(layer, seed=1)
    kernel, recurrent_kernel, bias = layer.get_weights()
    np.testing.assert_allclose(
        ops.convert_to_numpy(layer(inputs)),
        gated_elman_reference(inputs.astype("float64"), kernel, recurrent_kernel, bias),
        rtol=1e-5,
        atol=1e-6,
    )


def test_weight_shapes_and_forget_bias_initial_value():
    units = 3
    cell = GatedElmanCell(units, forget_bias=2.5, bias_initializer=initializers.Constant(0.25))
    cell.build((None, 5))
    assert [tuple(w.shape) for w in cell.weights] == [(5, 2 * units), (units, units), (2 * units,)]
    bias = ops.convert_to_numpy(cell.bias)
    np.testing.assert_array_equal(bias[:units], 2.5)  # b_f = forget_bias
    np.testing.assert_array_equal(bias[units:], 0.25)  # b from bias_initializer
    default = GatedElmanCell(2)
    default.build((None, 1))
    np.testing.assert_array_equal(ops.convert_to_numpy(default.bias), [1.0, 1.0, 0.0, 0.0])


def test_open_forget_gate_keeps_the_gradient_of_the_first_of_200_inputs():
    """With f_t pinned at ~1, d loss / d x_1 is as large as d loss / d x_200; Elman's vanishes.

    Both cells share the input weights W (Glorot, seeded). The gated cell's gate kernels are zero
    and b_f = 30, so f_t = sigmoid(30) ~ 1 - 1e-13 and h_T = sum_t tanh(W x_t). Elman keeps its
    default (orthogonal, seeded) recurrent kernel. Loss = sum of the final state.
    """
    units, features, steps = 4, 3, 200
    inputs = np.random.default_rng(0).normal(scale=0.5, size=(1, steps, features)).astype("float32")
    input_kernel = ops.convert_to_numpy(
        initializers.GlorotUniform(seed=1)((features, units))
    ).astype("float32")

    gated = keras.layers.RNN(GatedElmanCell(units, forget_bias=30.0))
    gated(inputs)
    gated.set_weights(
        [
            np.concatenate([np.zeros((features, units)), input_kernel], axis=1),  # [W_xf | W]
            np.zeros((units, units)),  # W_hf
            np.concatenate([np.full(units, 30.0), np.zeros(units)]),  # [b_f | b]
        ]
    )
    elman = keras.layers.RNN(
        ElmanCell(units, recurrent_initializer=initializers.Orthogonal(seed=2))
    )
    elman(inputs)
    elman.set_weights([input_kernel, elman.get_weights()[1], np.zeros(units)])

    def first_over_last(layer):
        _, input_grad, _ = loss_and_gradients(layer, inputs, ops.sum)
        norms = np.linalg.norm(input_grad[0], axis=-1)
        assert norms[-1] > 1e-3
        return norms[0] / norms[-1]

    gated_ratio = first_over_last(gated)
    assert 0.1 < gated_ratio < 10.0, gated_ratio
    elman_ratio = first_over_last(elman)
    assert elman_ratio < 0.1 or elman_ratio > 10.0, elman_ratio
