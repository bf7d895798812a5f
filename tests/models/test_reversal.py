"""A synthetic sanity task: a tiny encoder-decoder learns to reverse token sequences, with attention
(almost exactly) and visibly worse without it."""
import numpy as np
import pytest

from zoo import models
from zoo.conventions import END_ID, START_ID
from zoo.training import compile_defaults

VOCABULARY = 14  # padding, OOV, start, end, and 10 symbols (ids 4-13)


def reversal_data(count, rng, shortest=3, longest=8):
    """(sources, decoder inputs, next ids, weights): random sequences and their reversals."""
    sources = np.zeros((count, longest), "int32")
    decoder_ids = np.zeros((count, longest + 1), "int32")
    next_ids = np.zeros((count, longest + 1), "int32")
    for row, length in enumerate(rng.integers(shortest, longest + 1, size=count)):
        sequence = rng.integers(4, VOCABULARY, size=length)
        sources[row, :length] = sequence
        decoder_ids[row, 0], decoder_ids[row, 1 : length + 1] = START_ID, sequence[::-1]
        next_ids[row, :length], next_ids[row, length] = sequence[::-1], END_ID
    return sources, decoder_ids, next_ids, (next_ids != 0).astype("float32")


def exact_match(attention: str) -> float:
    rng = np.random.default_rng(0)
    sources, decoder_ids, next_ids, weights = reversal_data(3000, rng)
    config = models.EncoderDecoderConfig(vocabulary_size=VOCABULARY, embedding_dim=16, attention=attention,
                                         encoder=models.EncoderConfig(units=32, bidirectional=True), seed=0)
    model = compile_defaults(models.encoder_decoder(config), learning_rate=3e-3)
    model.fit({"source": sources, "target": decoder_ids}, next_ids, sample_weight=weights, batch_size=64,
              epochs=10, verbose=0)
    test_sources = reversal_data(200, np.random.default_rng(1))[0]
    outputs = models.decode(model, test_sources, beam_width=2, max_length=10)
    return float(np.mean([output == list(source[source != 0][::-1])
                          for output, source in zip(outputs, test_sources)]))


@pytest.fixture(scope="module")
def scores():
    return {attention: exact_match(attention) for attention in ("general", "none")}


def test_with_attention_a_tiny_model_learns_to_reverse(scores):
    assert scores["general"] >= 0.95, scores


def test_without_attention_the_same_model_reverses_visibly_worse(scores):
    assert scores["none"] <= scores["general"] - 0.1, scores
