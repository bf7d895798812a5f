"""`SoftAlignment`: padded tokens give and receive exactly zero attention; golden numbers.

keras.ops only (no TensorFlow here), so the file also runs under KERAS_BACKEND=jax / torch.
"""
import math

import keras
import numpy as np
import pytest

from tests.helpers import TOLERANCE
from zoo.layers import AlignmentEnhancement, SoftAlignment, masked_softmax

A_LENGTHS, B_LENGTHS = [3, 5, 1], [4, 2, 6]


def numpy(value):
    return keras.ops.convert_to_numpy(value)


def padded_pair(seed=0, width=6):
    """Random encodings of two batches of sentences; the padded positions hold NON-zero values,
    so that only the masks can keep them out."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(3, width, 4)).astype("float32")
    b = rng.normal(size=(3, width, 4)).astype("float32")
    a_mask = np.arange(width)[None, :] < np.array(A_LENGTHS)[:, None]
    b_mask = np.arange(width)[None, :] < np.array(B_LENGTHS)[:, None]
    return a, b, a_mask, b_mask


def test_golden_numbers_of_a_two_token_alignment():
    a = np.array([[[1.0, 0.0], [0.0, 0.0]]], dtype="float32")  # one real token, then padding
    b = np.array([[[1.0, 0.0], [0.0, 2.0], [5.0, 5.0]]], dtype="float32")  # two real, then padding
    a_mask, b_mask = np.array([[True, False]]), np.array([[True, True, False]])
    a_aligned, b_aligned, weights_a, weights_b = SoftAlignment(return_attention=True)(a, b, a_mask=a_mask,
                                                                                      b_mask=b_mask)
    e = math.e
    # e_00 = 1, e_01 = 0: a_0 attends to b_0 and b_1 with softmax([1, 0]); b's padding gets 0.
    np.testing.assert_allclose(numpy(weights_a), [[[e / (e + 1), 1 / (e + 1), 0.0], [0.0, 0.0, 0.0]]], atol=1e-6)
    np.testing.assert_allclose(numpy(a_aligned), [[[e / (e + 1), 2 / (e + 1)], [0.0, 0.0]]], atol=1e-6)
    # Each real b_j has only one real a_i to attend to: weight 1 on a_0, 0 on a's padding.
    np.testing.assert_allclose(numpy(weights_b), [[[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]]], atol=1e-6)
    np.testing.assert_allclose(numpy(b_aligned), [[[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]]], atol=1e-6)


def test_padded_positions_give_and_receive_exactly_zero_weight():
    a, b, a_mask, b_mask = padded_pair()
    weights_a, weights_b = map(numpy, SoftAlignment().attention_weights(a, b, a_mask, b_mask))
    assert weights_a.shape == (3, 6, 6) and weights_b.shape == (3, 6, 6)
    pairs = a_mask[:, :, None] & b_mask[:, None, :]
    assert np.all(weights_a[~pairs] == 0.0)  # exactly zero, not just small
    assert np.all(weights_b[~pairs.transpose(0, 2, 1)] == 0.0)
    assert np.all(weights_a[pairs] > 0) and np.all(weights_b[pairs.transpose(0, 2, 1)] > 0)
    np.testing.assert_allclose(weights_a.sum(-1)[a_mask], 1.0, atol=1e-6)  # over b's real tokens
    np.testing.assert_allclose(weights_b.sum(-1)[b_mask], 1.0, atol=1e-6)  # over a's real tokens
    a_aligned, b_aligned = map(numpy, SoftAlignment()(a, b, a_mask=a_mask, b_mask=b_mask))
    assert np.all(a_aligned[~a_mask] == 0.0) and np.all(b_aligned[~b_mask] == 0.0)


def test_adding_padding_to_either_sentence_changes_no_real_row():
    a, b, a_mask, b_mask = padded_pair(width=6)
    alignment = SoftAlignment(return_attention=True)
    wide = [numpy(x) for x in alignment(a, b, a_mask=a_mask, b_mask=b_mask)]
    rng = np.random.default_rng(5)
    for row in range(3):
        la, lb = A_LENGTHS[row], B_LENGTHS[row]
        alone = [numpy(x)[0] for x in alignment(a[row:row + 1, :la], b[row:row + 1, :lb])]
        # More padding, of garbage values, on the other side only.
        extra = rng.normal(size=(1, lb + 3, 4)).astype("float32")
        extra[:, :lb] = b[row:row + 1, :lb]
        more = numpy(alignment(a[row:row + 1, :la], extra, b_mask=np.arange(lb + 3)[None] < lb)[0])[0]
        np.testing.assert_allclose(more, alone[0], atol=TOLERANCE)
        np.testing.assert_allclose(wide[0][row, :la], alone[0], atol=TOLERANCE)
        np.testing.assert_allclose(wide[1][row, :lb], alone[1], atol=TOLERANCE)
        np.testing.assert_allclose(wide[2][row, :la, :lb], alone[2], atol=TOLERANCE)
        np.testing.assert_allclose(wide[3][row, :lb, :la], alone[3], atol=TOLERANCE)


def test_masked_softmax_of_an_all_padding_row_is_zeros_with_finite_gradients():
    scores = np.array([[3.0, -1.0, 50.0], [1.0, 2.0, 3.0]], dtype="float32")
    mask = np.array([[False, False, False], [True, True, False]])
    weights = numpy(masked_softmax(scores, mask))
    np.testing.assert_array_equal(weights[0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(weights[1], [1 / (1 + math.e), math.e / (1 + math.e), 0.0], atol=1e-6)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        variable = tf.Variable(scores)
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(masked_softmax(variable, mask) * tf.constant([[1.0, 2.0, 3.0]]))
        gradient = tape.gradient(loss, variable).numpy()
        assert np.all(np.isfinite(gradient)) and np.all(gradient[0] == 0.0) and gradient[1, 2] == 0.0


def test_masks_default_to_all_real_tokens():
    a, b, _, _ = padded_pair()
    weights_a, weights_b = map(numpy, SoftAlignment().attention_weights(a, b))
    np.testing.assert_allclose(weights_a.sum(-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(weights_b.sum(-1), 1.0, atol=1e-6)


@pytest.mark.parametrize("return_attention", [False, True])
def test_alignment_in_a_functional_model_round_trips_its_config(return_attention):
    a_in, b_in = keras.Input((None, 4)), keras.Input((None, 4))
    a_mask_in, b_mask_in = keras.Input((None,), dtype="bool"), keras.Input((None,), dtype="bool")
    layer = SoftAlignment(return_attention=return_attention, name="alignment")
    outputs = layer(a_in, b_in, a_mask=a_mask_in, b_mask=b_mask_in)
    assert len(outputs) == (4 if return_attention else 2)
    model = keras.Model([a_in, b_in, a_mask_in, b_mask_in], list(outputs))
    a, b, a_mask, b_mask = padded_pair()
    results = [numpy(x) for x in model([a, b, a_mask, b_mask])]
    expected = [numpy(x) for x in layer(a, b, a_mask=a_mask, b_mask=b_mask)]
    for result, value in zip(results, expected):
        np.testing.assert_allclose(result, value, atol=1e-6)
    rebuilt = SoftAlignment.from_config(layer.get_config())
    assert rebuilt.return_attention is return_attention and rebuilt.name == "alignment"


def test_enhancement_is_the_four_part_concatenation():
    a = np.array([[[1.0, 2.0], [0.0, 0.0]]], dtype="float32")
    aligned = np.array([[[3.0, -1.0], [0.0, 0.0]]], dtype="float32")
    enhanced = numpy(AlignmentEnhancement()(a, aligned))
    np.testing.assert_allclose(enhanced, [[[1, 2, 3, -1, -2, 3, 3, -2], [0] * 8]])
