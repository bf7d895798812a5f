"""Training and inference throughput of every recurrent path, as ratios to Keras' default LSTM.

Standard configuration: batch 64, length 100, embedding 128, hidden 256, one layer, Adam, 10
classes on the last state, float32, synthetic ids (no padding). Every candidate runs in this one
process; each round times every candidate once (train steps, then inference steps) in a rotated
order, and the reported ratio is the median over rounds of (candidate / Keras LSTM in the same
round), so a machine shared with other jobs shifts both sides of each ratio together. Inference
runs on a second instance of each model, frozen as a trained model is for serving or evaluating:
for the zoo's models `zoo.inference_model(model)` (the fused LSTM's first input projection folded
into a table of `E W + b`; other paths: the model itself).

Candidates:
  - zoo acceptor (`zoo.models.acceptor`) for every cell kind x implementation (builtin, custom,
    and fused for the LSTM), each with jit_compile False and True (XLA);
  - Keras' own LSTM / GRU / SimpleRNN, default settings (Embedding -> layer -> Dense), no XLA;
    the first is the reference (1.00x);
  - PyTorch's nn.LSTM (Embedding -> LSTM -> Linear, Adam) when torch is installed;
  - with --bare: the zoo's cells in Keras' own harness (`Sequential(Embedding, layer, Dense)`, no
    mask), the like-for-like comparison with Keras' layers.

Also measured: the machine's float32 matmul rate (a 2048^2 product in `keras.ops`, 8192^2 on a
GPU, once before and once after every round), and each candidate's model FLOP rate as a fraction of the rate measured in the same
round (median over rounds; training counted as 3x the forward FLOPs of the recurrent layer).

    python benchmarks/rnn_throughput.py              # full run (~10 minutes on 2 cores)
    python benchmarks/rnn_throughput.py --quick      # smoke run
    python benchmarks/rnn_throughput.py --only lstm  # one cell kind (+ the reference)
    python benchmarks/rnn_throughput.py --peak-rss   # peak RSS of training the standard config

Any Keras backend runs it (`KERAS_BACKEND=torch` or `jax`); TensorFlow is imported only for the
TensorFlow backend. With a GPU visible, Keras' LSTM and GRU also run with `use_cudnn=False`, so the
table shows what the cuDNN path is worth:

    KERAS_BACKEND=torch python benchmarks/rnn_throughput.py --no-jit --implementations builtin,custom
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

CELL_KINDS = ("elman", "gated_elman", "lstm", "gru")
KERAS_LAYERS = {"lstm": "LSTM", "gru": "GRU", "elman": "SimpleRNN"}
GATES = {"elman": 1, "lstm": 4, "gru": 3}
REFERENCE = "keras LSTM (default)"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 rounds of 1 step: a smoke run")
    parser.add_argument("--only", choices=CELL_KINDS, action="append",
                        help="cell kind(s) to run (the Keras LSTM reference always runs)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--embedding", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--vocabulary", type=int, default=10000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=2, help="train (and inference) steps per round")
    parser.add_argument("--no-jit", action="store_true", help="skip the jit_compile=True variants")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    parser.add_argument("--implementations", default="builtin,custom,fused",
                        help="comma-separated zoo implementations to run")
    parser.add_argument("--threads", default="",
                        help="'intra,inter' TensorFlow thread pools (default: TensorFlow's choice)")
    parser.add_argument("--bare", action="store_true",
                        help="also run the zoo's cells in Keras' harness (Embedding, layer, Dense; no mask)")
    parser.add_argument("--json", default="", help="also write the results to this JSON file")
    parser.add_argument("--peak-rss", action="store_true",
                        help="only train the standard zoo LSTM acceptor and report peak RSS")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.steps = 2, 1
    return args


def forward_flops_per_token(cell: str, embedding: int, hidden: int) -> float:
    """Multiply-adds x 2 of one recurrent step (the embedding lookup and the head are ignored)."""
    if cell == "gated_elman":
        return 2.0 * (2 * hidden * embedding + hidden * hidden)
    gates = GATES[cell]
    return 2.0 * gates * hidden * (embedding + hidden)


def matmul_peak(size: int = 2048, repeats: int = 5) -> float:
    """Best float32 FLOP/s of a (size x size) @ (size x size) product over a few tries.

    In `keras.ops`, so it measures the backend and device the candidates run on (a GPU's float32
    rate under the torch or JAX backend). Summing to one number waits for the product without
    timing a copy of it to the host.
    """
    import keras

    a = keras.random.normal((size, size), seed=1)
    b = keras.random.normal((size, size), seed=2)
    float(keras.ops.sum(keras.ops.matmul(a, b)))
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        float(keras.ops.sum(keras.ops.matmul(a, b)))
        best = max(best, 2.0 * size**3 / (time.perf_counter() - start))
    return best


class Candidate:
    """One model: `train(n)` and `infer(n)` run n steps on fixed batches and block until done."""

    def __init__(self, name, cell, train, infer, path=""):
        self.name, self.cell, self.train, self.infer, self.path = name, cell, train, infer, path
        self.train_seconds, self.infer_seconds = [], []


def keras_candidate(name, cell, build, x, y, jit, build_predictor=None):
    """`build()` makes the model trained; inference runs on a second instance,
    `build_predictor()` (default `build()`), whose weights stay fixed, as when a trained model
    serves or evaluates."""
    import keras

    model, predictor = build(), (build_predictor or build)()
    for instance in (model, predictor):
        instance.compile(optimizer=keras.optimizers.Adam(1e-3),
                         loss=keras.losses.SparseCategoricalCrossentropy(), jit_compile=jit)

    def train(steps):
        for _ in range(steps):
            loss = model.train_on_batch(x, y)
        float(loss if not isinstance(loss, list) else loss[0])

    def infer(steps):
        for _ in range(steps):
            out = predictor.predict_on_batch(x)
        out.sum()

    candidate = Candidate(name, cell, train, infer)
    candidate.predictor = predictor
    return candidate


def frozen(model):
    """The model as inference runs it: `zoo.inference_model(model)` (the fused LSTM's input
    projection folded; the model itself where nothing folds)."""
    import zoo
    import zoo.models as zm

    freeze = getattr(zoo, "inference_model", None) or getattr(zm, "inference_model", None)
    if freeze is not None:
        return freeze(model)
    return model  # nothing to fold with: the model as trained


def zoo_candidates(args, x, y):
    import zoo.models as zm

    out = []
    jits = (False,) if args.no_jit else (False, True)
    for cell in args.cells:
        for implementation in args.implementations:
            if implementation == "builtin" and cell == "gated_elman":
                continue
            if implementation == "fused" and cell != "lstm":
                continue  # the fused kernel exists for the LSTM only
            for jit in jits:
                config = zm.AcceptorConfig(
                    vocabulary_size=args.vocabulary, embedding_dim=args.embedding,
                    num_classes=args.classes,
                    encoder=zm.EncoderConfig(cell=cell, implementation=implementation, units=args.hidden))
                name = f"zoo {cell} {implementation}{' +XLA' if jit else ''}"
                build = lambda config=config: zm.acceptor(config)  # noqa: E731
                candidate = keras_candidate(name, cell, build, x, y, jit,
                                            build_predictor=lambda build=build: frozen(build()))
                candidate.path = candidate.predictor.get_layer("encoder").path_summary
                out.append(candidate)
                if implementation == "fused" and not jit:
                    # The fused loops without XLA: what bucketed batches (unknown widths) run.
                    def without_xla(model):
                        for direction in model.get_layer("encoder").recurrent_layers:
                            direction.xla_loops = False
                        return model

                    candidate = keras_candidate(
                        f"{name} (loops without XLA)", cell, lambda build=build: without_xla(build()),
                        x, y, jit, build_predictor=lambda build=build: without_xla(frozen(build())))
                    candidate.path = candidate.predictor.get_layer("encoder").path_summary
                    out.append(candidate)
    return out


def keras_harness(args, recurrent_layer):
    """Keras' own harness: `Sequential(Embedding, recurrent_layer, Dense)`, no mask."""
    import keras

    return keras.Sequential([
        keras.Input((args.length,), dtype="int32"),
        keras.layers.Embedding(args.vocabulary, args.embedding),
        recurrent_layer,
        keras.layers.Dense(args.classes, activation="softmax"),
    ])


def keras_reference_candidates(args, x, y):
    import keras

    out = []
    for cell in ["lstm"] + [c for c in args.cells if c in KERAS_LAYERS and c != "lstm"]:
        layer_name = KERAS_LAYERS[cell]
        name = REFERENCE if cell == "lstm" else f"keras {layer_name} (default)"
        candidate = keras_candidate(
            name, cell, lambda layer_name=layer_name: keras_harness(args, getattr(keras.layers, layer_name)(args.hidden)),
            x, y, False)
        candidate.path = f"keras.layers.{layer_name}" + (" (cuDNN where eligible)" if args.gpu else "")
        out.append(candidate)
        if args.gpu and cell in ("lstm", "gru"):
            # The same layer kept off cuDNN: what the cuDNN path is worth on this GPU.
            candidate = keras_candidate(
                f"keras {layer_name} use_cudnn=False", cell,
                lambda layer_name=layer_name: keras_harness(
                    args, getattr(keras.layers, layer_name)(args.hidden, use_cudnn=False)),
                x, y, False)
            candidate.path = f"keras.layers.{layer_name}, the backend's generic loop"
            out.append(candidate)
    return out


def bare_cell_candidates(args, x, y):
    """The zoo's cells in Keras' own harness: `Sequential(Embedding, layer, Dense)`, no mask.

    The like-for-like comparison with Keras' layers (the zoo acceptor adds a padding mask and
    masked pooling, which cost the same whatever the cell, and matter most for the cheap Elman).
    """
    import keras

    from zoo.cells import CELLS
    from zoo.layers import FusedLSTM

    layers = {"custom": keras.layers.RNN, "fused": FusedLSTM}
    out = []
    for cell in args.cells:
        for implementation in args.implementations:
            if implementation not in layers or (implementation == "fused" and cell != "lstm"):
                continue
            candidate = keras_candidate(
                f"bare {cell} {implementation}", cell,
                lambda cell=cell, implementation=implementation: keras_harness(
                    args, layers[implementation](CELLS[cell](args.hidden))),
                x, y, False)
            candidate.path = f"{layers[implementation].__name__}({CELLS[cell].__name__}), no mask"
            out.append(candidate)
    return out


def torch_candidate(args, x, y):
    try:
        import torch
    except ImportError:
        return None
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(args.vocabulary, args.embedding)
            self.lstm = nn.LSTM(args.embedding, args.hidden, batch_first=True)
            self.head = nn.Linear(args.hidden, args.classes)

        def forward(self, ids):
            _, (h, _) = self.lstm(self.embedding(ids))
            return self.head(h[-1])

    device = "cuda" if torch.cuda.is_available() else "cpu"
    net = Net().to(device)
    optimizer = torch.optim.Adam(net.parameters(), 1e-3)
    ids = torch.as_tensor(x, dtype=torch.long, device=device)
    labels = torch.as_tensor(y, dtype=torch.long, device=device)
    loss_fn = nn.CrossEntropyLoss()

    def train(steps):
        net.train()
        for _ in range(steps):
            optimizer.zero_grad()
            loss = loss_fn(net(ids), labels)
            loss.backward()
            optimizer.step()
        loss.item()

    def infer(steps):
        net.eval()
        with torch.inference_mode():
            for _ in range(steps):
                out = torch.softmax(net(ids), -1)
        float(out.sum())

    candidate = Candidate(f"torch nn.LSTM {torch.__version__}", "lstm", train, infer)
    candidate.path = (f"torch {torch.__version__}, cuDNN" if device == "cuda"
                      else f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    return candidate


def versions():
    import keras

    from zoo.layers.encoder import visible_gpus

    info = {
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "machine": platform.machine(),
        "processor": _cpu_name(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "gpus": visible_gpus(),
    }
    if info["backend"] == "tensorflow":
        import tensorflow as tf

        info["tensorflow"] = tf.__version__
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        pass
    return info


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def peak_rss(args):
    """Trains the standard zoo LSTM acceptor (default path) for a few steps; returns RSS in MiB."""
    import resource

    import numpy as np

    import zoo.models as zm
    from zoo.training import compile_defaults

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rng = np.random.default_rng(0)
    x = rng.integers(2, args.vocabulary, size=(args.batch, args.length), dtype=np.int32)
    y = rng.integers(0, args.classes, size=(args.batch,), dtype=np.int32)
    model = zm.acceptor(zm.AcceptorConfig(
        vocabulary_size=args.vocabulary, embedding_dim=args.embedding, num_classes=args.classes,
        encoder=zm.EncoderConfig(cell="lstm", units=args.hidden)))
    compile_defaults(model)
    for _ in range(max(args.steps, 5)):
        model.train_on_batch(x, y)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"peak_rss_mib_after_import": round(before, 1), "peak_rss_mib_training": round(after, 1),
            "path": model.get_layer("encoder").code_path}


def main(argv=None):
    args = parse_args(argv)
    args.cells = args.only or list(CELL_KINDS)
    args.implementations = [i for i in args.implementations.split(",") if i]

    if args.threads:
        import tensorflow as tf

        intra, inter = (int(v) for v in args.threads.split(","))
        tf.config.threading.set_intra_op_parallelism_threads(intra)
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    if args.peak_rss:
        result = peak_rss(args)
        print(json.dumps(result, indent=2))
        return result

    import numpy as np

    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(2, args.vocabulary, size=(args.batch, args.length), dtype=np.int32)
    y = rng.integers(0, args.classes, size=(args.batch,), dtype=np.int32)

    from zoo.layers.encoder import visible_gpus

    args.gpu = bool(visible_gpus())
    peak_size = 512 if args.quick else (8192 if args.gpu else 2048)
    peak = matmul_peak(size=peak_size)
    candidates = keras_reference_candidates(args, x, y) + zoo_candidates(args, x, y)
    if args.bare:
        candidates += bare_cell_candidates(args, x, y)
    if not args.no_torch and ("lstm" in args.cells):
        torch = torch_candidate(args, x, y)
        if torch is not None:
            candidates.append(torch)

    warmup = {}
    for candidate in candidates:  # traces and XLA compiles happen here, outside the timings
        start = time.perf_counter()
        candidate.train(1)
        candidate.infer(1)
        warmup[candidate.name] = time.perf_counter() - start
        print(f"  warm-up {candidate.name}: {warmup[candidate.name]:.1f} s", file=sys.stderr, flush=True)

    started = time.perf_counter()
    round_peaks = []
    for round_index in range(args.rounds):
        shift = round_index % len(candidates)
        for candidate in candidates[shift:] + candidates[:shift]:
            start = time.perf_counter()
            candidate.train(args.steps)
            middle = time.perf_counter()
            candidate.infer(args.steps)
            candidate.train_seconds.append((middle - start) / args.steps)
            candidate.infer_seconds.append((time.perf_counter() - middle) / args.steps)
        round_peak = matmul_peak(size=peak_size, repeats=2)
        round_peaks.append(round_peak)
        peak = max(peak, round_peak)
        print(f"  round {round_index + 1}/{args.rounds} done ({time.perf_counter() - started:.0f} s)",
              file=sys.stderr, flush=True)

    reference = candidates[0]
    tokens = args.batch * args.length
    rows = []
    for candidate in candidates:
        train_ratio = statistics.median(
            r / s for r, s in zip(reference.train_seconds, candidate.train_seconds))
        infer_ratio = statistics.median(
            r / s for r, s in zip(reference.infer_seconds, candidate.infer_seconds))
        train_tps = tokens / statistics.median(candidate.train_seconds)
        infer_tps = tokens / statistics.median(candidate.infer_seconds)
        flops = forward_flops_per_token(candidate.cell, args.embedding, args.hidden)
        rows.append({
            "name": candidate.name, "path": candidate.path,
            "train_tokens_per_s": round(train_tps), "infer_tokens_per_s": round(infer_tps),
            "train_ratio": round(train_ratio, 3), "infer_ratio": round(infer_ratio, 3),
            # Per round: the candidate's FLOP rate over the matmul rate measured in that round.
            "train_peak_fraction": round(statistics.median(
                3 * flops * tokens / s / p for s, p in zip(candidate.train_seconds, round_peaks)), 4),
            "infer_peak_fraction": round(statistics.median(
                flops * tokens / s / p for s, p in zip(candidate.infer_seconds, round_peaks)), 4),
            "warmup_s": round(warmup[candidate.name], 1),
        })

    info = versions()
    print(f"\n{info}")
    print(f"config: batch {args.batch}, length {args.length}, embedding {args.embedding}, "
          f"hidden {args.hidden}, 1 layer, Adam, {args.classes} classes; {args.rounds} rounds x "
          f"{args.steps} steps; threads {args.threads or 'default'}")
    print(f"float32 matmul: best {peak / 1e9:.1f} GFLOP/s, per round "
          f"{', '.join(f'{p / 1e9:.1f}' for p in round_peaks)} (%peak is per round)\n")
    header = (f"{'candidate':34s} {'train tok/s':>11s} {'x ref':>6s} {'%peak':>6s} "
              f"{'infer tok/s':>11s} {'x ref':>6s} {'%peak':>6s}")
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row['name']:34s} {row['train_tokens_per_s']:11d} {row['train_ratio']:6.2f} "
              f"{100 * row['train_peak_fraction']:6.1f} {row['infer_tokens_per_s']:11d} "
              f"{row['infer_ratio']:6.2f} {100 * row['infer_peak_fraction']:6.1f}")
    result = {"versions": info, "args": {k: v for k, v in vars(args).items()},
              "matmul_peak_gflops": round(peak / 1e9, 1),
              "matmul_round_gflops": [round(p / 1e9, 1) for p in round_peaks], "rows": rows}
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2, default=str)
    return result


if __name__ == "__main__":
    main()
