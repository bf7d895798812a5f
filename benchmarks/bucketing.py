"""Bucketing vs fixed-length padding: padding fraction and epoch time, with and without XLA.

For each dataset (a seeded subset of its training split, 10k examples by default): the share of
padded positions (`zoo.data.batching.padding_fraction`) with bucketed batches and with every
batch padded to the longest example; and the epoch time of a small model (1-layer LSTM,
64 units (the default path: `auto`, or --implementation), embedding 64, Adam, batch 64) trained on each. Epoch times are measured in one process
in interleaved rounds (bucket, fixed, bucket+XLA, fixed+XLA, ...), reported as medians and as
median per-round ratios to the bucketed epoch without XLA. The first epoch of each variant is
reported apart: it includes tracing and, with XLA, one compilation per distinct batch shape.

    python benchmarks/bucketing.py                        # snli, brown_pos, uci_sentiment
    python benchmarks/bucketing.py --datasets brown_pos --examples 2000 --rounds 1   # quick
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

DATASETS = ("snli", "brown_pos", "uci_sentiment")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--examples", type=int, default=10000, help="training examples per dataset")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2, help="timed epochs per variant")
    parser.add_argument("--no-xla", action="store_true", help="skip the XLA variants")
    parser.add_argument("--implementation", default="auto",
                        help="the LSTM path (default auto: the fused LSTM on a CPU)")
    parser.add_argument("--json", default="")
    return parser.parse_args(argv)


def subset(examples, count, seed=0):
    import numpy as np

    examples = list(examples)
    if count >= len(examples):
        return examples
    order = np.random.default_rng(seed).permutation(len(examples))[:count]
    return [examples[i] for i in sorted(order)]


def prepare(name, count, implementation="auto"):
    """(examples, dataset function, vectorizer, model factory(jit) ) for one dataset."""
    import zoo.data
    import zoo.models as zm
    from zoo.data import batching
    from zoo.data.vectorize import ZooVectorizer, build_token_vectorizer, build_word_vectorizer

    data = zoo.data.load(name)
    examples = subset(data.train, count)
    encoder = zm.EncoderConfig(cell="lstm", implementation=implementation, units=64)
    if name == "brown_pos":
        vectorizer = build_token_vectorizer([tokens for tokens, _ in examples])
        make = batching.tagging_dataset
        config = zm.TransducerConfig(vocabulary_size=len(vectorizer.get_vocabulary()), embedding_dim=64,
                                     num_classes=len(data.label_names), encoder=encoder)
        factory = zm.transducer
    elif name == "snli":
        vectorizer = ZooVectorizer(build_word_vectorizer([t for p, h, _ in examples for t in (p, h)]))
        make = batching.pair_dataset
        config = zm.PairEncoderConfig(vocabulary_size=len(vectorizer.get_vocabulary()), embedding_dim=64,
                                      num_classes=len(data.label_names), hidden_units=64, encoder=encoder)
        factory = zm.pair_encoder
    else:
        vectorizer = ZooVectorizer(build_word_vectorizer([text for text, _ in examples]))
        make = batching.classification_dataset
        config = zm.AcceptorConfig(vocabulary_size=len(vectorizer.get_vocabulary()), embedding_dim=64,
                                   num_classes=len(data.label_names), encoder=encoder)
        factory = zm.acceptor
    return examples, make, vectorizer, config, factory


def distinct_shapes(dataset):
    import tensorflow as tf

    shapes = set()
    for element in dataset:
        inputs = element[0]
        parts = inputs.values() if isinstance(inputs, dict) else [inputs]
        shapes.add(tuple(tuple(tf.shape(p).numpy()) for p in parts))
    return len(shapes)


def run_dataset(name, args):
    import dataclasses

    import keras

    from zoo.data.batching import padding_fraction
    from zoo.training import compile_defaults

    examples, make, vectorizer, config, factory = prepare(name, args.examples, args.implementation)
    config = dataclasses.replace(config, encoder=dataclasses.replace(config.encoder, units=args.units))
    datasets = {padding: make(examples, vectorizer, batch_size=args.batch, shuffle=True, seed=0,
                              padding=padding)
                for padding in ("bucket", "fixed")}
    result = {"examples": len(examples),
              "padding_fraction": {p: round(padding_fraction(d), 4) for p, d in datasets.items()},
              "distinct_batch_shapes": {p: distinct_shapes(d) for p, d in datasets.items()}}
    print(f"{name}: {result}", file=sys.stderr, flush=True)

    variants = [(padding, False) for padding in datasets]
    if not args.no_xla:
        variants += [(padding, True) for padding in datasets]
    models = {}
    first_epoch = {}
    for padding, jit in variants:
        keras.utils.set_random_seed(0)
        model = factory(config)
        compile_defaults(model, jit_compile="on" if jit else "off")
        start = time.perf_counter()
        model.fit(datasets[padding], epochs=1, verbose=0)
        label = f"{padding}{' +XLA' if jit else ''}"
        first_epoch[label] = round(time.perf_counter() - start, 1)
        models[label] = (model, datasets[padding])
        print(f"  {name} first epoch {label}: {first_epoch[label]} s", file=sys.stderr, flush=True)
    times = {label: [] for label in models}
    labels = list(models)
    for round_index in range(args.rounds):
        shift = round_index % len(labels)
        for label in labels[shift:] + labels[:shift]:
            model, dataset = models[label]
            start = time.perf_counter()
            model.fit(dataset, epochs=1, verbose=0)
            times[label].append(time.perf_counter() - start)
    reference = times["bucket"]
    result["first_epoch_s"] = first_epoch
    result["epoch_s_median"] = {label: round(statistics.median(t), 2) for label, t in times.items()}
    result["epoch_time_ratio_to_bucket"] = {
        label: round(statistics.median(t / r for t, r in zip(t_list, reference)), 3)
        for label, t_list in times.items()}
    return result


def main(argv=None):
    args = parse_args(argv)
    import tensorflow as tf

    import keras

    results = {"versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
               "load_average": os.getloadavg(), "args": vars(args)}
    for name in [n for n in args.datasets.split(",") if n]:
        results[name] = run_dataset(name, args)
        print(json.dumps({name: results[name]}, indent=2), flush=True)
    results["load_average_end"] = os.getloadavg()
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2, default=str)
    return results


if __name__ == "__main__":
    main()
