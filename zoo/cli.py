"""The `zoo` command line. Thin: parse, call the package, print.

TensorFlow writes C++ start-up lines (CUDA stubs, oneDNN, CPU features) to the process's stderr
when it is imported, before any Python logging setting applies. The command line sets the log
level and silences file descriptor 2 for the duration of that one import; a library import of
`zoo` leaves the user's settings alone.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys


@contextlib.contextmanager
def _silenced_stderr():
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def quiet_backend_import() -> None:
    """Imports Keras (and TensorFlow) without their start-up noise; errors still surface."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _silenced_stderr():
        try:
            import tensorflow  # noqa: F401  (the backend; only its C++ start-up lines are hidden)
        except ImportError:
            pass  # another Keras backend; keras' own import below reports what is missing
    import keras  # noqa: F401

    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)


def command_list(args) -> int:
    from zoo.cells import CELLS
    from zoo.models import FACTORIES

    print("factories:")
    for name, (_, config_class, summary) in FACTORIES.items():
        print(f"  {name:15s} {summary}  [config: zoo.models.{config_class.__name__}]")
    print("cells:")
    for name, cell_class in CELLS.items():
        first_line = (cell_class.__doc__ or "").strip().splitlines()[0]
        print(f"  {name:15s} zoo.cells.{cell_class.__name__}: {first_line}")
    return 0


def command_demo(args) -> int:
    from zoo.demo import run_demo

    return run_demo(steps=args.steps)


def command_train(args) -> int:
    from zoo.tasks import load_recipe, train

    recipe = load_recipe(args.recipe)  # read as configuration, not executed
    _, run_dir = train(recipe, runs=args.runs, overrides=args.set, dataset=args.dataset,
                       distribute=args.distribute)
    from zoo.distribute import is_chief

    if args.export and not is_chief(args.distribute):
        return 0  # a non-chief worker: the chief exports
    if args.export:
        from zoo.export.saved_model import export_run

        print(f"== exported to {export_run(run_dir, root=args.export)}")
    return 0


def command_evaluate(args) -> int:
    from zoo.tasks import evaluate_run

    metrics = evaluate_run(args.run, split=args.split)
    print(" ".join(f"{name} {value:.4f}" for name, value in metrics.items()))
    return 0


def command_export(args) -> int:
    from zoo.export.saved_model import export_run

    print(export_run(args.run, root=args.root, version=args.version, name=args.name))
    return 0


def command_analyze_gradients(args) -> int:
    from zoo.analysis.gradients import gradient_table, plot_gradients

    table = gradient_table(args.cells.split(","), steps=args.steps, units=args.units, seed=args.seed,
                           forget_bias=args.forget_bias)
    distances = sorted({d for d in (0, 1, 10, 25, 50, 100, args.steps - 1) if d < args.steps})
    print("|| d h_T / d x_t || at T - t =", "  ".join(f"{d:>9}" for d in distances))
    for cell, norms in table.items():
        print(f"{cell:>30}", "  ".join(f"{norms[args.steps - 1 - d]:9.2e}" for d in distances))
    if args.out:
        title = f"Gradient reaching earlier inputs, at initialisation (forget bias {args.forget_bias:g})"
        print(f"plot: {plot_gradients(table, args.out, title)}")
    return 0


def command_analyze_attention(args) -> int:
    import numpy as np

    import zoo
    from zoo.analysis.attention import alignment, decoder_attention, heatmap_png
    from zoo.loading import load_vectorizer

    model = zoo.load(args.run, compile=False)
    vectorizer = load_vectorizer(args.run)
    kind = getattr(model, "kind", None)
    if kind == "encoder_decoder":
        if args.source is None or args.premise is not None or args.hypothesis is not None:
            raise ValueError(f"{args.run} holds an encoder-decoder: give --source (and optionally "
                             "--target), not --premise/--hypothesis")
        weights, rows, columns = decoder_attention(model, vectorizer, args.source, args.target, args.beam_width)
        names = ("output", "source")
    else:
        if args.premise is None or args.hypothesis is None or args.source is not None or args.target is not None:
            raise ValueError(f"{args.run} holds a {type(model).__name__}: give --premise and --hypothesis "
                             "(--source/--target are for encoder-decoders)")
        if not hasattr(model, "attention_weights"):
            raise ValueError(f"{args.run} holds a {type(model).__name__}; the alignment picture needs a "
                             "pair model with interaction='esim' or an encoder-decoder")
        weights, rows, columns = alignment(model, vectorizer, args.premise, args.hypothesis)
        names = ("premise", "hypothesis")
    path = heatmap_png(weights, rows, columns, args.out, rows=names[0], columns=names[1],
                       title=f"{args.run}: {names[0]} -> {names[1]}")
    for token, row in zip(rows, weights):
        print(f"{token:>15} -> {columns[int(np.argmax(row))]} ({row.max():.2f})")
    print(f"wrote {path}")
    return 0


def command_analyze_activations(args) -> int:
    from pathlib import Path

    import zoo
    from zoo.analysis import activations as act
    from zoo.data.vectorize import vectorize
    from zoo.loading import load_vectorizer

    if not args.text:
        raise ValueError("--text is empty: give the text whose activations to show")
    if Path(args.text).is_file():  # a file's path: its text (not the path's own characters)
        try:
            args.text = Path(args.text).read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"--text {args.text}: the file is not UTF-8 text ({error.reason} at byte {error.start})") from None
        if not args.text:
            raise ValueError("--text names an empty file: give the text whose activations to show")
    model = zoo.load(args.run, compile=False)
    ids = vectorize(load_vectorizer(args.run), [args.text], ragged=True)[0].numpy()
    if len(ids) != len(args.text):
        raise ValueError(f"{args.run} is not a character model ({len(ids)} ids for {len(args.text)} "
                         "characters); the per-character view needs one id per character")
    values = act.lstm_activations(model, ids, layer=args.layer)
    features = {"inside quotes": act.inside_quotes(args.text), "position in line": act.position_in_line(args.text),
                "inside parentheses": act.inside_parentheses(args.text)}
    shown = args.cell
    for name, feature in features.items():
        if feature.std() == 0:
            continue
        best = act.cells_following(values["c"], feature, top=3)
        print(f"cells following '{name}':", ", ".join(f"{cell} (r={r:+.2f})" for cell, r in best))
        shown = best[0][0] if shown is None else shown
    shown = 0 if shown is None else shown
    page = act.activations_html(args.text, values["c"][:, shown], title=f"{args.run}: cell {shown}, layer {args.layer}")
    Path(args.out).write_text(page, encoding="utf-8")
    print(f"cell {shown}: {args.out}")
    return 0


def command_predict(args) -> int:
    # An export: TensorFlow only, the SavedModel carries the vectorizer and the model, no zoo
    # model code runs. A run folder: the same signature functions in this process, on the
    # run's model frozen by zoo.inference_model (zoo.export.in_process).
    import json

    from zoo.export.client import format_result, predict

    from pathlib import Path

    model = None
    if (Path(args.saved_model) / "model.keras").exists():  # a run folder
        from zoo.export.in_process import RunModel

        model = RunModel(args.saved_model)
    kind, results = predict(args.saved_model, args.texts, file=args.file, pair=args.pair,
                            top=args.top, generate=args.generate, temperature=args.temperature,
                            seed=args.seed, model=model, greedy=args.greedy,
                            max_length=args.max_length)
    for result in results:
        print(json.dumps(result, ensure_ascii=False) if args.json else format_result(kind, result))
    return 0


def command_tune(args) -> int:
    from zoo.tuning.search import tune

    fixed = {}
    for assignment in args.fix:
        if "=" not in assignment:
            raise ValueError(f"--fix expects name=value, got {assignment!r}")
        name, value = assignment.split("=", 1)
        fixed[name.strip()] = value.strip()
    tune(args.recipe, tuner=args.tuner, max_trials=args.max_trials, budget_minutes=args.budget_minutes,
         directory=args.directory, train_fraction=args.train_fraction, max_epochs=args.max_epochs,
         fixed=fixed, output=args.output, dataset=args.dataset, seed=args.seed)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zoo",
        description="A model zoo of recurrent networks for NLP (Elman, gated Elman, LSTM, GRU).",
    )
    subcommands = parser.add_subparsers(dest="command", metavar="command")
    listing = subcommands.add_parser("list", help="list the model factories and the recurrent cells")
    listing.set_defaults(handler=command_list)
    demo = subcommands.add_parser("demo", help="build every factory and fit it a few steps on a tiny set")
    demo.add_argument("--steps", type=int, default=20, help="training steps per model (default 20)")
    demo.set_defaults(handler=command_demo)
    recipe_help = ("a recipe: a name (recipes/<name>.py, from ./recipes/ or else the zoo's own, e.g. "
                   "sentiment) or the path of a recipe file")
    train = subcommands.add_parser(
        "train", help="train, evaluate and save a recipe (recipes/<task>.py or your copy)",
        description="Trains what the recipe file says (read as configuration, never executed), evaluates "
                    "on the test split and writes the run folder.")
    train.add_argument("recipe", help=recipe_help)
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a recipe value, e.g. --set encoder.units=300 --set batch_size=64 "
                            "(recorded in the run's recipe.json)")
    train.add_argument("--dataset", default=None,
                       help="dataset name (default: the recipe's DATASET; tensorflow-datasets names work online)")
    train.add_argument("--runs", default="runs", help="folder of run folders (default ./runs)")
    train.add_argument("--export", nargs="?", const="saved_models", default=None, metavar="ROOT",
                       help="after training, export a SavedModel serving raw text under ROOT "
                            "(default ./saved_models/<run name>/<next version>/)")
    train.add_argument("--distribute", choices=("none", "mirrored", "multi_worker"), default="none",
                       help="mirrored: this machine's GPUs (or CPU) in sync; multi_worker: the machines "
                            "TF_CONFIG lists, each running this command (default none)")
    train.set_defaults(handler=command_train)
    tune = subcommands.add_parser(
        "tune", help="search around a recipe with keras-tuner; writes ./tuning/<recipe>/ and prints "
                     "the recipe lines to change")
    tune.add_argument("recipe", help=recipe_help)
    tune.add_argument("--tuner", choices=("hyperband", "bayesian", "random"), default="hyperband",
                      help="search algorithm (default hyperband)")
    tune.add_argument("--max-trials", type=int, default=30, help="at most this many trials in all (default 30)")
    tune.add_argument("--budget-minutes", type=float, default=None,
                      help="launch no new trial after this many minutes (running ones finish)")
    tune.add_argument("--directory", default=None,
                      help="search folder, shared by chief and workers (default ./tuning/<recipe>)")
    tune.add_argument("--train-fraction", type=float, default=1.0,
                      help="train each trial on this fraction of the training split (default 1)")
    tune.add_argument("--max-epochs", type=int, default=None,
                      help="epochs bound per trial (default: the recipe's epochs)")
    tune.add_argument("--fix", action="append", default=[], metavar="NAME=VALUE",
                      help="pin a hyperparameter, e.g. --fix encoder.units=8 (names: see zoo.tuning.hypermodels)")
    tune.add_argument("--output", default=None,
                      help="record and best settings (default ./tuning/<recipe>/<recipe>.tuned.json)")
    tune.add_argument("--dataset", default=None, help="dataset name (default: the recipe's)")
    tune.add_argument("--seed", type=int, default=0, help="the oracle's seed (default 0)")
    tune.set_defaults(handler=command_tune)
    evaluate = subcommands.add_parser("evaluate", help="re-evaluate a saved run on its test split")
    evaluate.add_argument("run", help="a run folder (e.g. runs/sentiment)")
    evaluate.add_argument("--split", choices=("test", "dev"), default="test", help="split (default test)")
    evaluate.set_defaults(handler=command_evaluate)
    export = subcommands.add_parser(
        "export", help="export a run as a SavedModel serving raw text (saved_models/<name>/<version>/)")
    export.add_argument("run", help="a run folder (e.g. runs/sentiment)")
    export.add_argument("--version", type=int, default=None,
                        help="version number (default: the next free one; existing ones are never overwritten)")
    export.add_argument("--root", default="saved_models", help="folder of exports (default ./saved_models)")
    export.add_argument("--name", default=None, help="served name (default: the run folder's name)")
    export.set_defaults(handler=command_export)
    predict = subcommands.add_parser(
        "predict", help="run an exported SavedModel on raw text (TensorFlow only)")
    predict.add_argument("saved_model", help="an export: saved_models/<name> (highest version) or its "
                         "<version>/ folder; or a run folder (runs/<name>), run in this process")
    predict.add_argument("texts", nargs="*", help="inputs (with --pair: premise hypothesis [premise hypothesis ...])")
    predict.add_argument("--file", help="one input per line ('premise<TAB>hypothesis' with --pair; - for stdin)")
    predict.add_argument("--pair", action="store_true", help="premise/hypothesis inputs (pair encoder exports)")
    predict.add_argument("--json", action="store_true", help="one JSON object per input")
    predict.add_argument("--top", type=int, default=5, help="language models: next tokens shown (default 5)")
    predict.add_argument("--generate", type=int, default=None, metavar="N",
                         help="language models: sample N tokens after each prefix")
    predict.add_argument("--temperature", type=float, default=1.0, help="with --generate (0: argmax; default 1)")
    predict.add_argument("--seed", type=int, default=0, help="with --generate (default 0)")
    predict.add_argument("--greedy", action="store_true",
                         help="encoder-decoders: greedy search instead of the exported beam search")
    predict.add_argument("--max-length", type=int, default=0, metavar="N",
                         help="encoder-decoders: output tokens at most (default 0: twice the source plus 10)")
    predict.set_defaults(handler=command_predict)
    analyze = subcommands.add_parser(
        "analyze", help="look inside recurrent models: LSTM activations, gradients through time, attention")
    analyses = analyze.add_subparsers(dest="analysis", metavar="{activations,gradients,attention}")
    gradients = analyses.add_parser(
        "gradients", help="the vanishing-gradient picture: || d h_T / d x_t || per cell kind")
    gradients.add_argument("--cells", default="elman,gated_elman,lstm,gru", help="comma-separated cell kinds")
    gradients.add_argument("--steps", type=int, default=100, help="sequence length T (default 100)")
    gradients.add_argument("--units", type=int, default=32, help="hidden units (default 32)")
    gradients.add_argument("--seed", type=int, default=0)
    gradients.add_argument("--forget-bias", type=float, default=1.0,
                           help="initial forget-gate bias of the gated Elman and the LSTM (default 1)")
    gradients.add_argument("--out", default="gradients.png", help="plot file ('' for none)")
    gradients.set_defaults(handler=command_analyze_gradients)
    activations = analyses.add_parser(
        "activations", help="an LSTM character model's cell states over a text (Karpathy et al. 2015)")
    activations.add_argument("run", help="a run folder of a character model (e.g. runs/char_lm)")
    activations.add_argument("--text", required=True, help="the text to read, or the path of a UTF-8 file holding it")
    activations.add_argument("--layer", type=int, default=0, help="stacked layer (default 0)")
    activations.add_argument("--cell", type=int, default=None,
                             help="cell to colour (default: the one that best follows a text feature)")
    activations.add_argument("--out", default="activations.html", help="HTML file to write")
    activations.set_defaults(handler=command_analyze_activations)
    attention = analyses.add_parser(
        "attention", help="attention as a PNG heatmap: an ESIM pair model's alignment of two "
                          "sentences, or an encoder-decoder's attention over its source")
    attention.add_argument("run", help="a run folder of an ESIM pair model (runs/snli) or an "
                                       "encoder-decoder (runs/compress)")
    attention.add_argument("--premise", help="pair models: the premise sentence")
    attention.add_argument("--hypothesis", help="pair models: the hypothesis sentence")
    attention.add_argument("--source", help="encoder-decoders: the source sentence")
    attention.add_argument("--target", help="encoder-decoders: a target to show the attention for "
                                            "(default: the model's own output)")
    attention.add_argument("--beam-width", type=int, default=1,
                           help="encoder-decoders without --target: decode with this beam (default 1: greedy)")
    attention.add_argument("--out", default="attention.png", help="PNG file to write")
    attention.set_defaults(handler=command_analyze_attention)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "command", None) == "predict" and not any(item.startswith("-") for item in extra):
        # argparse stops reading the texts at the first option (`zoo predict DIR --greedy TEXT`):
        # the inputs after it are texts too, in the order typed.
        args.texts = list(args.texts) + extra
    elif extra:
        parser.parse_args(argv)  # argparse's own "unrecognized arguments" error and exit code
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 0
    quiet_backend_import()
    try:
        return args.handler(args)
    except (ValueError, FileNotFoundError, TypeError) as error:
        # Errors a user can act on (bad input, missing files): one clear line, no traceback.
        print(f"zoo {args.command}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        # A folder that cannot be written (read-only, full, a file in the way): name the path.
        if error.filename is None:
            raise
        print(f"zoo {args.command}: error: cannot use {error.filename}: {error.strerror}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
