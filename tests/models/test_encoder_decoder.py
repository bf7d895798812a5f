"""The encoder-decoder: config, masking on both sides, saving, learning, and greedy / beam decoding."""
import dataclasses
import math

import keras
import numpy as np
import pytest

from tests.helpers import TOLERANCE, assert_every_weight_learns, assert_save_load_round_trip, lengths, predict
from zoo import models
from zoo.conventions import END_ID, START_ID
from zoo.models.config import with_overrides
from zoo.models.encoder_decoder import _Steps, length_normalizer

VOCABULARY = 14
SOURCES = np.array([[5, 6, 7, 0, 0], [8, 9, 10, 11, 12], [4, 0, 0, 0, 0], [13, 4, 6, 0, 0]], dtype="int32")
TARGETS = np.array([[2, 7, 6, 0], [2, 12, 11, 10], [2, 0, 0, 0], [2, 6, 0, 0]], dtype="int32")
INPUTS = {"source": SOURCES, "target": TARGETS}


def seq2seq_config(cell="lstm", implementation="fused", bidirectional=True, attention="general", **extra):
    encoder = models.EncoderConfig(cell=cell, implementation=implementation, units=extra.pop("units", 4),
                                   bidirectional=bidirectional, layers=extra.pop("layers", 1))
    return models.EncoderDecoderConfig(vocabulary_size=VOCABULARY, embedding_dim=3, encoder=encoder,
                                       attention=attention, seed=3, **extra)


def randomized(model, seed=1, scale=0.6):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=scale, size=w.shape).astype("float32") for w in model.get_weights()])
    return model


def test_the_config_checks_its_fields_and_round_trips():
    config = seq2seq_config()
    assert config.decoder_width == 8  # the bidirectional encoder's output width
    assert models.EncoderDecoderConfig.from_json(config.to_json()) == config
    assert models.config_from_json(config.to_json()) == config
    with pytest.raises(ValueError, match=r"EncoderDecoderConfig\.attention must be one of"):
        seq2seq_config(attention="luong")
    with pytest.raises(ValueError, match=r"EncoderDecoderConfig\.decoder_cell must be one of \('lstm', 'gru'\)"):
        seq2seq_config(decoder_cell="elman")
    with pytest.raises(ValueError, match=r"decoder_units.*attention='dot'"):
        seq2seq_config(attention="dot", decoder_units=5)
    with pytest.raises(ValueError, match="vocabulary_size"):
        dataclasses.replace(seq2seq_config(), vocabulary_size=4)
    assert with_overrides(config, ["attention=additive", "attention_units=6"]).attention_units == 6


def test_the_graph_names_its_layers_and_refuses_folding():
    model = models.encoder_decoder(seq2seq_config(decoder_cell="gru"))
    names = {layer.name for layer in model.layers}
    assert {"embedding", "encoder", "bridge_h", "decoder", "attention", "attentional", "probabilities"} <= names
    assert "bridge_c" not in names  # a GRU decoder has no cell state
    assert model.output_shape == (None, None, VOCABULARY)
    assert model.foldable[0] is False and "decoder" in model.foldable[1]
    with pytest.raises(ValueError, match="cannot fold"):
        models.EncoderDecoder(seq2seq_config(), fold_input_projection=True)
    plain = models.encoder_decoder(seq2seq_config(attention="none"))
    assert not {"attention", "attentional"} & {layer.name for layer in plain.layers}


@pytest.mark.parametrize("attention", ["dot", "general", "additive", "none"])
@pytest.mark.parametrize("cell, implementation, decoder_cell", [
    ("lstm", "fused", "lstm"), ("lstm", "builtin", "gru"), ("gru", "auto", "lstm")])
def test_a_padded_batch_predicts_what_each_example_predicts_alone(cell, implementation, decoder_cell, attention):
    model = randomized(models.encoder_decoder(seq2seq_config(cell, implementation, attention=attention,
                                                             decoder_cell=decoder_cell)))
    batch = predict(model, INPUTS)
    for row in range(len(SOURCES)):
        source, target = lengths(SOURCES)[row], lengths(TARGETS)[row]
        alone = predict(model, {"source": SOURCES[row : row + 1, :source], "target": TARGETS[row : row + 1, :target]})
        np.testing.assert_allclose(alone[0], batch[row, :target], atol=TOLERANCE, err_msg=f"row {row}")


def test_padded_source_tokens_get_no_attention():
    model = randomized(models.encoder_decoder(seq2seq_config(attention="additive")))
    weights = keras.ops.convert_to_numpy(model.attention_weights(INPUTS))
    assert weights.shape == (4, 4, 5)
    padded = SOURCES == 0
    assert np.all(weights[np.broadcast_to(padded[:, None, :], weights.shape)] == 0.0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-6)
    with pytest.raises(ValueError, match="attention='none'"):
        models.encoder_decoder(seq2seq_config(attention="none")).attention_weights(INPUTS)


def test_the_model_round_trips_in_safe_mode_and_every_weight_learns(tmp_path):
    model = randomized(models.encoder_decoder(seq2seq_config(layers=2, dropout=0.1, attention="additive")))
    loaded = assert_save_load_round_trip(model, INPUTS, tmp_path)
    assert type(loaded) is models.EncoderDecoder and loaded.config == model.config
    next_ids = np.concatenate([TARGETS[:, 1:], np.zeros((4, 1), "int32")], axis=1)
    next_ids[np.arange(4), lengths(TARGETS) - 1] = END_ID
    assert_every_weight_learns(model, INPUTS, next_ids, sample_weight=(TARGETS != 0).astype("float32"))


def test_the_glove_modes_take_the_matrix_and_the_factory_checks_its_config():
    matrix = np.random.default_rng(0).normal(size=(VOCABULARY, 3)).astype("float32")
    model = models.encoder_decoder(dataclasses.replace(seq2seq_config(), embedding_mode="glove_frozen"), matrix)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.get_layer("embedding").embeddings), matrix)
    assert not model.get_layer("embedding").trainable
    with pytest.raises(TypeError, match="EncoderDecoderConfig"):
        models.encoder_decoder(models.AcceptorConfig())


# -- decoding ------------------------------------------------------------------------------------
def teacher_forced_score(model, source, output):
    """log P(output, then the end token if it fits | source) under the teacher-forced model."""
    tokens = list(output) + [END_ID]
    decoder_ids = np.array([[START_ID] + tokens[:-1]], dtype="int32")
    probabilities = predict(model, {"source": np.array([source], "int32"), "target": decoder_ids})[0]
    return float(sum(math.log(probabilities[t, token]) for t, token in enumerate(tokens)))


def reference_beam_search(model, source, beam_width, max_length, length_penalty):
    """Beam search for one source, written plainly over Python lists (the test's yardstick)."""
    steps = _Steps(model)
    encoded, mask, states = steps.encode(np.array([source], "int32"))
    beams = [([], 0.0, [keras.ops.convert_to_numpy(s) for s in states], False)]
    for _ in range(max_length):
        if all(done for *_, done in beams):
            break
        candidates = []
        for tokens, score, state, done in beams:
            if done:
                candidates.append((tokens, score, state, True))
                continue
            previous = tokens[-1] if tokens else START_ID
            log_probabilities, new_state, _ = steps.step(np.array([previous], "int32"), state, encoded, mask)
            log_probabilities = keras.ops.convert_to_numpy(log_probabilities)[0]
            new_state = [keras.ops.convert_to_numpy(s) for s in new_state]
            for token in np.argsort(-log_probabilities)[:beam_width]:
                candidates.append((tokens + [int(token)], score + float(log_probabilities[token]), new_state,
                                   int(token) == END_ID))
        beams = sorted(candidates, key=lambda beam: -beam[1])[:beam_width]
    best = max(beams, key=lambda beam: beam[1] / float(length_normalizer(len(beam[0]), length_penalty)))
    tokens = best[0][:-1] if best[0] and best[0][-1] == END_ID else best[0]
    return tokens, best[1]


@pytest.fixture(scope="module")
def decoding_model():
    keras.utils.set_random_seed(7)
    return randomized(models.encoder_decoder(seq2seq_config(decoder_cell="lstm")), seed=4, scale=1.0)


def test_greedy_search_takes_the_most_likely_token_and_scores_what_it_wrote(decoding_model):
    outputs, scores = models.decode(decoding_model, SOURCES, max_length=6, return_scores=True)
    assert any(outputs) and all(START_ID not in output and 0 not in output for output in outputs)
    for row, (output, score) in enumerate(zip(outputs, scores)):
        source = SOURCES[row, : lengths(SOURCES)[row]]
        if len(output) < 6:  # it ended: the score includes the end token
            assert score == pytest.approx(teacher_forced_score(decoding_model, source, output), abs=1e-4)


def test_beam_search_of_width_one_is_greedy_search(decoding_model):
    greedy = models.decode(decoding_model, SOURCES, max_length=7, return_scores=True)
    tokens, scores = models.beam_search(decoding_model, SOURCES, max_length=7, beam_width=1)
    from zoo.models.encoder_decoder import strip

    assert strip(tokens) == greedy[0]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(scores), greedy[1], atol=1e-5)


def test_a_wider_beam_never_scores_below_greedy_and_matches_the_plain_beam_search(decoding_model):
    sources = np.random.default_rng(5).integers(4, VOCABULARY, size=(12, 5)).astype("int32")
    sources[::3, 3:] = 0  # some padded rows
    _, greedy = models.decode(decoding_model, sources, max_length=8, return_scores=True)
    for width in (2, 4):
        outputs, scores = models.decode(decoding_model, sources, beam_width=width, max_length=8,
                                        length_penalty=0.0, return_scores=True)
        assert all(b >= g - 1e-5 for b, g in zip(scores, greedy)), (width, scores, greedy)
        for row in range(len(sources)):
            source = sources[row, : lengths(sources)[row]]
            expected, expected_score = reference_beam_search(decoding_model, source, width, 8, 0.0)
            assert outputs[row] == expected, (width, row)
            assert scores[row] == pytest.approx(expected_score, abs=1e-4)
    # With a length penalty, the batched search still picks what the plain one picks.
    outputs = models.decode(decoding_model, sources, beam_width=3, max_length=8, length_penalty=1.0)
    assert outputs == [reference_beam_search(decoding_model, sources[row, : lengths(sources)[row]], 3, 8, 1.0)[0]
                       for row in range(len(sources))]


def test_a_padded_batch_decodes_what_each_source_decodes_alone(decoding_model):
    batch = models.decode(decoding_model, SOURCES, beam_width=3, max_length=6)
    alone = [models.decode(decoding_model, [SOURCES[row, : lengths(SOURCES)[row]]], beam_width=3, max_length=6)[0]
             for row in range(len(SOURCES))]
    assert batch == alone
    assert models.decode(decoding_model, SOURCES, beam_width=3, max_length=6, batch_size=3) == batch


def test_decode_refuses_bad_arguments_by_name(decoding_model):
    with pytest.raises(ValueError, match="beam_width"):
        models.decode(decoding_model, SOURCES, beam_width=0)
    with pytest.raises(ValueError, match="max_length"):
        models.decode(decoding_model, SOURCES, max_length=0)
    with pytest.raises(ValueError, match=r"source ids must be in \[0, 14\)"):
        models.decode(decoding_model, [[3, 99]])
    with pytest.raises(ValueError, match="vectorizer"):
        models.decode(decoding_model, ["a sentence"])
    with pytest.raises(ValueError, match="empty"):
        models.decode(decoding_model, [])
    with pytest.raises(TypeError, match="EncoderDecoder"):
        models.decode(models.acceptor(models.AcceptorConfig(vocabulary_size=VOCABULARY)), SOURCES)
    assert models.decode(decoding_model, [[]], max_length=3) == models.decode(decoding_model, [[1]], max_length=3)
