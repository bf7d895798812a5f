"""A short demo: every factory built and fitted for a few steps on a tiny in-memory set."""
from __future__ import annotations

import numpy as np

from zoo import models
from zoo.training import compile_defaults, token_weights


def _tiny_ids(rng, rows: int, vocabulary_size: int, max_length: int) -> np.ndarray:
    ids = np.zeros((rows, max_length), dtype="int32")
    for row in range(rows):
        length = rng.integers(2, max_length + 1)
        ids[row, :length] = rng.integers(2, vocabulary_size, size=length)
    return ids


def run_demo(steps: int = 20, seed: int = 0) -> int:
    rng = np.random.default_rng(seed)
    vocabulary_size, rows, length = 30, 32, 8
    ids = _tiny_ids(rng, rows, vocabulary_size, length)
    # Learnable toy targets: the label is whether the first token is even, the tag whether each
    # token is even, the pair label compares first tokens, the language model predicts the next id.
    label = (ids[:, 0] % 2).astype("int32")
    tags = (ids % 2).astype("int32")
    other = _tiny_ids(rng, rows, vocabulary_size, length)
    pair_label = np.sign(ids[:, 0] - other[:, 0]).astype("int32") + 1
    encoder = models.EncoderConfig(cell="lstm", units=16, bidirectional=True)
    jobs = [
        ("acceptor", models.AcceptorConfig(vocabulary_size, 16, encoder=encoder), ids, label, None),
        ("transducer", models.TransducerConfig(vocabulary_size, 16, encoder=encoder, num_classes=2),
         ids, tags, token_weights(ids)),
        ("pair_encoder", models.PairEncoderConfig(vocabulary_size, 16, encoder=encoder),
         {"premise": ids, "hypothesis": other}, pair_label, None),
        ("language_model", models.LanguageModelConfig(
            vocabulary_size, 16, encoder=models.EncoderConfig(cell="gru", units=16)),
         ids[:, :-1], ids[:, 1:], token_weights(ids[:, 1:])),
    ]
    for name, config, inputs, targets, weights in jobs:
        model = compile_defaults(models.build(config), learning_rate=1e-2)
        before = model.evaluate(inputs, targets, sample_weight=weights, verbose=0, return_dict=True)
        model.fit(inputs, targets, sample_weight=weights, epochs=steps, batch_size=rows, verbose=0)
        after = model.evaluate(inputs, targets, sample_weight=weights, verbose=0, return_dict=True)
        print(f"{name:15s} loss {before['loss']:.3f} -> {after['loss']:.3f}   "
              f"accuracy {before['accuracy']:.3f} -> {after['accuracy']:.3f}   "
              f"({model.count_params():,} parameters)")
    language_model = model
    prefix = [int(i) for i in ids[0, :3]]
    sample = models.generate(language_model, prefix, length=10, temperature=0.5, seed=seed)
    print(f"language_model sample after {prefix}: {sample}")
    return 0
