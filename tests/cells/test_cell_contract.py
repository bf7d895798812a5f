"""What every zoo cell promises: Keras' cell contract, defaults, argument checks, variational
dropout, and serialization (config round trip, `.keras` files loaded with safe_mode=True)."""
import itertools

import keras
import numpy as np
import pytest
from keras import initializers, ops

from zoo.cells import CELLS, RecurrentCell

from .gradients import randomize_weights

NAMES = sorted(CELLS)
# Arguments only some cells take.
EXTRA_ARGS = {"gated_elman": {"forget_bias": 0.5}, "lstm": {"forget_bias": 2.0}}


def make(cell_name, units=3, **kwargs):
    return CELLS[cell_name](units, **kwargs)


def to_numpy(value):
    return ops.convert_to_numpy(value)


def sequences(batch=2, steps=4, features=3, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, steps, features)).astype("float32")


# --- the cell contract -------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_one_step_follows_the_keras_cell_contract(name):
    cell = make(name, units=4)
    assert isinstance(cell, RecurrentCell)
    sizes = cell.state_size if isinstance(cell.state_size, list) else [cell.state_size]
    assert sizes == ([4, 4] if name == "lstm" else [4])
    assert cell.output_size == 4

    states = cell.get_initial_state(batch_size=2)
    assert len(states) == len(sizes)
    for state in states:
        assert tuple(state.shape) == (2, 4)
        np.testing.assert_array_equal(to_numpy(state), 0.0)

    x_t = sequences()[:, 0]
    output, new_states = cell(x_t, states)
    assert tuple(output.shape) == (2, 4)
    assert isinstance(new_states, (list, tuple)) and len(new_states) == len(sizes)
    assert all(tuple(s.shape) == (2, 4) for s in new_states)
    np.testing.assert_allclose(to_numpy(output), to_numpy(new_states[0]))  # the output is h_t
    # Called with training=False explicitly, the same step.
    again, _ = cell(x_t, states, training=False)
    np.testing.assert_allclose(to_numpy(again), to_numpy(output))


@pytest.mark.parametrize("name", NAMES)
def test_inside_rnn_the_last_output_is_the_last_step_and_states_are_returned(name):
    layer = keras.layers.RNN(make(name), return_sequences=True, return_state=True)
    outputs, *states = layer(sequences())
    assert tuple(outputs.shape) == (2, 4, 3)
    assert len(states) == (2 if name == "lstm" else 1)
    np.testing.assert_allclose(to_numpy(outputs[:, -1]), to_numpy(states[0]), rtol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_default_initialisers(name):
    cell = make(name)
    assert isinstance(cell.kernel_initializer, initializers.GlorotUniform)
    assert isinstance(cell.recurrent_initializer, initializers.Orthogonal)
    assert isinstance(cell.bias_initializer, initializers.Zeros)
    assert cell.dropout == 0.0 and cell.recurrent_dropout == 0.0


# --- argument checks ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_bad_units_raise_value_error_naming_units(name):
    for units in [0, -1, 2.5, "3", None, True]:
        with pytest.raises(ValueError, match="units"):
            make(name, units=units)


@pytest.mark.parametrize("name", NAMES)
def test_dropout_outside_zero_one_raises_value_error_naming_it(name):
    for argument in ["dropout", "recurrent_dropout"]:
        for rate in [-0.1, 1.0, 1.5]:
            with pytest.raises(ValueError, match=rf"\.{argument} must be in \[0, 1\)"):
                make(name, **{argument: rate})
        make(name, **{argument: 0.0})  # the bounds: 0 allowed,
        make(name, **{argument: 0.999})  # 1 not


# --- dropout -----------------------------------------------------------------------------------


def dropout_setup(name, **rates):
    """A layer with dropout and a dropout-free twin with the same (random, nonzero) weights."""
    inputs = sequences(batch=4, steps=4, features=3, seed=5)
    layer = keras.layers.RNN(make(name, seed=3, **rates), return_sequences=True)
    twin = keras.layers.RNN(make(name), return_sequences=True)
    layer(inputs)
    twin(inputs)
    randomize_weights(layer, seed=6)
    twin.set_weights(layer.get_weights())
    return inputs, layer, twin


@pytest.mark.parametrize("name", NAMES)
def test_no_dropout_unless_training(name):
    inputs, layer, twin = dropout_setup(name, dropout=0.5, recurrent_dropout=0.5)
    expected = to_numpy(twin(inputs))
    np.testing.assert_allclose(to_numpy(layer(inputs)), expected, rtol=1e-6, atol=1e-7)
    first = to_numpy(layer(inputs, training=False))
    second = to_numpy(layer(inputs, training=False))
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first, expected, rtol=1e-6, atol=1e-7)
    assert not np.allclose(to_numpy(layer(inputs, training=True)), expected, atol=1e-4)


def binary_masks(width):
    return np.array(list(itertools.product([0.0, 1.0], repeat=width)), dtype="float32")


@pytest.mark.parametrize("name", NAMES)
def test_input_dropout_is_one_mask_per_sequence(name):
    """training=True equals the dropout-free twin on x_t * m / (1 - rate), m fixed over time.

    Every binary mask m is tried for every row; a mask redrawn at each step would match none.
    """
    rate = 0.5
    inputs, layer, twin = dropout_setup(name, dropout=rate)
    dropped = to_numpy(layer(inputs, training=True))
    masks = binary_masks(inputs.shape[-1])  # (K, features)
    batch, steps, _ = inputs.shape
    candidates = inputs[:, None, :, :] * masks[None, :, None, :] / (1.0 - rate)  # (B, K, T, F)
    candidate_outputs = to_numpy(twin(candidates.reshape(batch * len(masks), steps, -1)))
    candidate_outputs = candidate_outputs.reshape(batch, len(masks), steps, -1)
    matched = []
    for row in range(batch):
        hits = [
            k
            for k in range(len(masks))
            if np.allclose(candidate_outputs[row, k], dropped[row], rtol=1e-5, atol=1e-6)
        ]
        assert hits, f"row {row}: no fixed input mask reproduces the training output"
        matched.append(masks[hits[0]])
    assert not np.all(np.array(matched) == 1.0), "dropout dropped nothing"


@pytest.mark.parametrize("name", NAMES)
def test_recurrent_dropout_is_one_mask_per_sequence(name):
    """training=True equals the dropout-free twin whose recurrent kernel is diag(m / (1-rate)) V.

    The mask on h_{t-1} enters only through the recurrent product, so dropping state units is
    scaling the recurrent kernel's rows; every binary m is tried, fixed over time, per row.
    """
    rate = 0.5
    inputs, layer, twin = dropout_setup(name, recurrent_dropout=rate)
    dropped = to_numpy(layer(inputs, training=True))
    kernel, recurrent_kernel, bias = layer.get_weights()
    masks = binary_masks(recurrent_kernel.shape[0])
    candidate_outputs = []
    for mask in masks:
        twin.set_weights([kernel, recurrent_kernel * (mask / (1.0 - rate))[:, None], bias])
        candidate_outputs.append(to_numpy(twin(inputs)))
    matched = []
    for row in range(inputs.shape[0]):
        hits = [
            k
            for k, outputs in enumerate(candidate_outputs)
            if np.allclose(outputs[row], dropped[row], rtol=1e-5, atol=1e-6)
        ]
        assert hits, f"row {row}: no fixed recurrent mask reproduces the training output"
        matched.append(masks[hits[0]])
    assert not np.all(np.array(matched) == 1.0), "recurrent dropout dropped nothing"


# --- serialization -----------------------------------------------------------------------------


def configured(name):
    """A cell with every constructor argument away from its default."""
    return make(
        name,
        units=3,
        kernel_initializer=initializers.GlorotNormal(seed=1),
        recurrent_initializer=initializers.Orthogonal(gain=0.9, seed=2),
        bias_initializer=initializers.Constant(0.1),
        dropout=0.25,
        recurrent_dropout=0.125,
        seed=7,
        name=f"configured_{name}",
        **EXTRA_ARGS.get(name, {}),
    )


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trip(name):
    cell = configured(name)
    config = cell.get_config()
    for key, value in {"units": 3, "dropout": 0.25, "recurrent_dropout": 0.125, "seed": 7}.items():
        assert config[key] == value
    for key, value in EXTRA_ARGS.get(name, {}).items():
        assert config[key] == value

    clone = type(cell).from_config(config)
    assert clone.get_config() == config
    # Through Keras' registry too (the name "zoo>..."), as a saved model does, in safe mode.
    serialized = keras.saving.serialize_keras_object(cell)
    assert serialized["registered_name"] == f"zoo>{type(cell).__name__}"
    revived = keras.saving.deserialize_keras_object(serialized, safe_mode=True)
    assert type(revived) is type(cell)
    assert revived.get_config() == config

    inputs = sequences()
    ours = keras.layers.RNN(cell, return_sequences=True)
    theirs = keras.layers.RNN(revived, return_sequences=True)
    ours(inputs)
    theirs(inputs)
    randomize_weights(ours, seed=8)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(to_numpy(theirs(inputs)), to_numpy(ours(inputs)), rtol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_stacked_cells_equal_stacked_layers(name):
    inputs = sequences()
    stacked = keras.layers.RNN(
        keras.layers.StackedRNNCells([make(name), make(name, units=4)]), return_sequences=True
    )
    first = keras.layers.RNN(make(name), return_sequences=True)
    second = keras.layers.RNN(make(name, units=4), return_sequences=True)
    stacked(inputs)
    second(first(inputs))
    randomize_weights(stacked, seed=9)
    weights = stacked.get_weights()
    split = len(first.get_weights())
    first.set_weights(weights[:split])
    second.set_weights(weights[split:])
    np.testing.assert_allclose(
        to_numpy(stacked(inputs)), to_numpy(second(first(inputs))), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("name", NAMES)
def test_saved_model_loads_in_safe_mode_with_the_same_predictions(name, tmp_path):
    inputs = keras.Input(shape=(4, 3))
    hidden = keras.layers.RNN(configured(name), return_sequences=True)(inputs)
    hidden = keras.layers.Bidirectional(keras.layers.RNN(make(name), return_sequences=True))(hidden)
    outputs = keras.layers.RNN(keras.layers.StackedRNNCells([make(name), make(name, units=2)]))(
        hidden
    )
    model = keras.Model(inputs, outputs)
    randomize_weights(model, seed=10)
    path = tmp_path / f"{name}.keras"
    model.save(path)

    loaded = keras.saving.load_model(path, safe_mode=True)
    cell_types = [type(loaded.layers[1].cell), type(loaded.layers[2].forward_layer.cell)]
    cell_types += [type(c) for c in loaded.layers[3].cell.cells]
    assert cell_types == [CELLS[name]] * 4
    assert loaded.layers[1].cell.get_config() == model.layers[1].cell.get_config()
    x = sequences()
    # model(x) rather than predict(): the same computation without tracing a tf.function (~3 s).
    np.testing.assert_allclose(to_numpy(loaded(x)), to_numpy(model(x)), rtol=1e-5, atol=1e-6)
