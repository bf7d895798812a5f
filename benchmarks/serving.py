"""Serving throughput: the exported SavedModel's `classify` signature against in-process inference.

The standard acceptor (vocabulary 10,000 words, embedding 128, LSTM 256, final pooling, 2
classes) is built, exported with `zoo.export.export_saved_model` (its vectorizer inside the
graph) and timed three ways on the same 64 texts of 100 words each:

  - served: the SavedModel loaded with plain `tf.saved_model.load`, `classify(text)` on the raw
    strings (tokenising included), as a TensorFlow Serving client sees it;
  - in-process: the Keras model on the same texts' ids (already vectorized) in a `tf.function`,
    the way `zoo evaluate` and in-process prediction run it (through `zoo.inference_model` where
    the zoo has it, so the input projection is folded exactly as in the export);
  - in-process + tokenising: the vectorizer and the model in one `tf.function`, for reference;
  - `model.predict`: Keras' own predict loop on the ids (one batch), for reference.

Each round times every path once in a rotated order (after warm-up calls), and the reported
ratio is the median over rounds of served / in-process tokens per second, so a busy machine
moves both sides together. Tokens per second count the 6,400 word tokens of a batch.

    python benchmarks/serving.py                 # 15 rounds of 10 calls
    python benchmarks/serving.py --quick         # smoke run
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 rounds of 2 calls: a smoke run")
    parser.add_argument("--texts", type=int, default=64)
    parser.add_argument("--words", type=int, default=100)
    parser.add_argument("--vocabulary", type=int, default=10000)
    parser.add_argument("--embedding", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=10, help="calls per path per round")
    parser.add_argument("--json", default="", help="also write the results to this JSON file")
    return parser.parse_args(argv)


def synthetic_texts(count: int, words: int, vocabulary: int, seed: int) -> list[str]:
    import numpy as np

    rng = np.random.default_rng(seed)
    # Zipf-like word frequencies, as in text: most tokens are frequent words.
    ranks = np.minimum(rng.zipf(1.2, size=(count, words)), vocabulary - 3)
    return [" ".join(f"w{rank}" for rank in row) for row in ranks]


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.quick:
        args.rounds, args.calls = 2, 2
    import numpy as np
    import tensorflow as tf

    import zoo
    from zoo.data.vectorize import ZooVectorizer, build_word_vectorizer, vectorize
    from zoo.export.saved_model import export_saved_model
    from zoo.models import AcceptorConfig, EncoderConfig, acceptor

    vocabulary_texts = [" ".join(f"w{rank}" for rank in range(args.vocabulary - 2))]
    vectorizer = ZooVectorizer(build_word_vectorizer(vocabulary_texts))
    config = AcceptorConfig(vocabulary_size=len(vectorizer.get_vocabulary()), embedding_dim=args.embedding,
                            encoder=EncoderConfig(cell="lstm", units=args.hidden), num_classes=2)
    model = acceptor(config)
    texts = synthetic_texts(args.texts, args.words, args.vocabulary, seed=0)
    ids = vectorize(vectorizer, texts, ragged=False)
    tokens = int(np.count_nonzero(ids.numpy()))

    folding = getattr(zoo, "inference_model", None)
    inference = folding(model) if folding is not None else model
    in_process = tf.function(lambda batch: inference(batch, training=False))
    in_process_text = tf.function(lambda batch: inference(vectorize(vectorizer, batch, ragged=False),
                                                          training=False))
    with tempfile.TemporaryDirectory() as folder:
        exported = export_saved_model(model, vectorizer, Path(folder) / "sentiment", label_names=["neg", "pos"])
        served = tf.saved_model.load(str(exported)).signatures["classify"]
        text_tensor = tf.constant(texts)
        paths = {
            "served classify(text)": lambda: served(text=text_tensor)["probabilities"],
            "in-process, ids": lambda: in_process(ids),
            "in-process, text": lambda: in_process_text(text_tensor),
            "model.predict, ids": lambda: inference.predict(ids, batch_size=args.texts, verbose=0),
        }
        served_out = np.asarray(paths["served classify(text)"]())
        local_out = np.asarray(paths["in-process, ids"]())
        largest_difference = float(np.max(np.abs(served_out - local_out)))
        for run in paths.values():  # warm up: traces, and any first-call work
            for _ in range(3):
                np.asarray(run())
        rates = {name: [] for name in paths}
        names = list(paths)
        for round_index in range(args.rounds):
            order = names[round_index % len(names):] + names[:round_index % len(names)]
            for name in order:
                started = time.perf_counter()
                for _ in range(args.calls):
                    np.asarray(paths[name]())
                rates[name].append(tokens * args.calls / (time.perf_counter() - started))
    reference = "in-process, ids"
    results = {
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores",
        "versions": {"tensorflow": tf.__version__, "zoo": zoo.__version__},
        "inference": "zoo.inference_model (folded)" if folding is not None else "the Keras model as trained",
        "tokens_per_batch": tokens,
        "largest_difference_served_vs_in_process": largest_difference,
        "tokens_per_second": {name: statistics.median(values) for name, values in rates.items()},
        "ratio_to_in_process_ids": {
            name: statistics.median(a / b for a, b in zip(values, rates[reference]))
            for name, values in rates.items()},
    }
    print(f"{results['machine']}; TensorFlow {tf.__version__}; in-process model: {results['inference']}")
    print(f"{args.texts} texts x {args.words} words ({tokens} tokens), {args.rounds} rounds x {args.calls} calls; "
          f"served vs in-process largest difference {largest_difference:.2e}")
    for name in names:
        print(f"  {name:24s} {results['tokens_per_second'][name]:10.0f} tokens/s  "
              f"{results['ratio_to_in_process_ids'][name]:.2f}x of in-process (ids)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
