"""SavedModel export: raw text in, labels out, servable by TensorFlow Serving without the zoo.

`export_saved_model(model, vectorizer, path)` writes `path/<version>/` (the layout TensorFlow
Serving watches: `saved_models/<name>/<version>/`, integer versions, the next free one by default)
holding the SavedModel and a `metadata.json`. `export_run(run_dir)` does it for a run folder
(`zoo export runs/sentiment`), taking the name from the folder.

Guarantees:

- The vectorizer runs inside the graph: signatures take batches of raw strings (see
  `zoo.export.signatures` for what each returns).
- Atomic: everything is written to a temporary folder beside the target (`path/.tmp-<version>-*`,
  a name TensorFlow Serving ignores) and renamed into place only when complete; a failed export
  removes it, a killed one leaves it behind but never a partial `<version>/`.
- Portable: every Keras LSTM/GRU (also inside `SequenceEncoder` and `Bidirectional`) is switched to
  the generic path (`use_cudnn=False`) while the graph is traced, so an export made with a GPU
  visible holds no `CudnnRNN*` op (which has no CPU kernel); the written graph is checked for ops
  without a CPU kernel before it is renamed into place.
- Frozen: the graph is `zoo.models.inference_model(model)`, where the first fused LSTM layer's
  input projection `E W + b` is computed once from the trained weights and read per token id.
- Built with `keras.export.ExportArchive`, the model and the vectorizer's lookup layers tracked
  explicitly.
"""
from __future__ import annotations

import contextlib
import datetime
import json
import os
import shutil
import tempfile
from pathlib import Path

import keras
import tensorflow as tf

from zoo.export import signatures
from zoo.models import inference_model

KINDS = ("acceptor", "transducer", "pair_encoder", "language_model", "encoder_decoder")
METADATA_FILE = "metadata.json"
DEFAULT_CONTEXT = 256
DEFAULT_ROOT = "saved_models"


# --- which model is it -------------------------------------------------------------------------

def model_kind(model: keras.Model) -> str:
    """One of `KINDS`: the model's own `kind`."""
    from zoo.models import ZooModel

    if not isinstance(model, ZooModel):
        raise ValueError(
            f"cannot export {type(model).__name__} {model.name!r}: expected a zoo model "
            f"(zoo.models.acceptor/transducer/pair_encoder/language_model/encoder_decoder, or "
            f"zoo.load of a run)")
    return model.kind


# --- portability: no cuDNN-only ops in the graph -----------------------------------------------

def recurrent_layers(model: keras.Model) -> list:
    """Every recurrent layer of the model's encoders, both directions of a bidirectional one."""
    from zoo.training import encoders

    found = []
    for encoder in encoders(model):
        for layer in encoder.recurrent_layers:
            if isinstance(layer, keras.layers.Bidirectional):
                found += [layer.forward_layer, layer.backward_layer]
            else:
                found.append(layer)
    return found


@contextlib.contextmanager
def generic_recurrent_path(model: keras.Model):
    """Sets `use_cudnn=False` on every Keras LSTM/GRU of `model` for the duration, then restores.

    Keras decides between cuDNN and its generic loop when a graph is traced; tracing with this
    in force gives a graph that runs on any device (`use_cudnn` is not saved in `get_config`).
    """
    layers = [layer for layer in recurrent_layers(model) if hasattr(layer, "use_cudnn")]
    saved = [(layer, layer.use_cudnn) for layer in layers]
    try:
        for layer in layers:
            layer.use_cudnn = False
        yield layers
    finally:
        for layer, value in saved:
            layer.use_cudnn = value


def graph_op_types(saved_model_dir: str | Path) -> set[str]:
    """Every op type in a SavedModel's graphs, library functions included (read from the proto)."""
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((Path(saved_model_dir) / "saved_model.pb").read_bytes())
    types = set()
    for meta_graph in proto.meta_graphs:
        graph = meta_graph.graph_def
        functions = {function.signature.name for function in graph.library.function}
        types.update(node.op for node in graph.node)
        for function in graph.library.function:
            types.update(node.op for node in function.node_def)
        types -= functions  # calls of library functions by name are not kernels
    return types


def ops_without_cpu_kernel(op_types) -> list[str]:
    """The op types (of `graph_op_types`) that cannot run on a CPU: cuDNN ops and any other op
    with no CPU (or device-independent) kernel registered in this TensorFlow."""
    try:
        from tensorflow.python.framework import kernels  # not public API: degrade if it moves
    except ImportError:
        kernels = None
    missing = []
    for op in sorted(op_types):
        if op.startswith("Cudnn"):
            missing.append(op)
            continue
        if kernels is None:
            continue
        try:
            registered = kernels.get_registered_kernels_for_op(op).kernel
        except Exception:  # an op unknown to this build: report it rather than guess
            missing.append(op)
            continue
        if not any(kernel.device_type in ("CPU", "DEFAULT") for kernel in registered):
            missing.append(op)
    return missing


# --- versions ---------------------------------------------------------------------------------

def versions(path: str | Path) -> list[int]:
    """The integer version folders under `path` (sorted); temporary folders are not versions."""
    path = Path(path)
    if not path.is_dir():
        return []
    return sorted(int(entry.name) for entry in path.iterdir()
                  if entry.is_dir() and entry.name.isdigit())


def next_version(path: str | Path) -> int:
    """One more than the highest version under `path` (1 for none): TF Serving serves the highest."""
    found = versions(path)
    return (found[-1] + 1) if found else 1


STALE_SECONDS = 24 * 3600  # a temporary export folder older than this is a killed export's


def remove_stale_temporaries(path: Path, older_than: float = STALE_SECONDS) -> list[Path]:
    """Removes the `.tmp-*` folders a killed export left under `path` more than a day ago (a
    younger one may be another export still writing); returns those removed."""
    import time

    removed = []
    for entry in Path(path).glob(".tmp-*"):
        if entry.is_dir() and time.time() - entry.stat().st_mtime > older_than:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def check_served_name(name: str) -> str:
    """A served name is one folder name: no path separator, not "." or ".." (which would write
    outside the export root)."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise ValueError(f"--name must be a plain folder name (no '/', not '.' or '..'), got {name!r}")
    return name


# --- the archive ------------------------------------------------------------------------------

def _label_names(model: keras.Model, kind: str, label_names) -> list[str] | None:
    if kind in ("language_model", "encoder_decoder"):  # their outputs are the vocabulary
        return None
    classes = int(model.output_shape[-1])
    if label_names is None:
        return [str(index) for index in range(classes)]
    label_names = [str(name) for name in label_names]
    if len(label_names) != classes:
        raise ValueError(f"label_names has {len(label_names)} names, the model has {classes} classes")
    return label_names


def _check_char_inputs(model: keras.Model, encoder: signatures.TextEncoder) -> None:
    """A model that reads character ids needs a vectorizer that makes them, and only it."""
    wants_chars = signatures.CHAR_IDS in {getattr(tensor, "name", None) for tensor in model.inputs}
    if wants_chars and not encoder.has_chars:
        raise ValueError(
            f"the model {model.name!r} takes character ids ({signatures.CHAR_IDS!r}) but the "
            f"vectorizer has no character vocabulary (build_token_vectorizer(..., max_word_chars=N))")
    if encoder.has_chars and not wants_chars:
        raise ValueError(
            f"the vectorizer makes character ids but the model {model.name!r} takes none "
            f"(a transducer with config.char_features on takes them)")


def _separator(vocabulary: list[str]) -> str:
    """"" for a character vocabulary, " " for words (as `zoo.models.generate`)."""
    return "" if all(len(token) <= 1 for token in vocabulary[2:]) else " "


def decoding_settings(decoding: dict | None) -> dict:
    """`{"beam_width", "length_penalty"}` of an encoder-decoder's `decode` signature, checked by
    `zoo.tasks.DecodingSettings` (its defaults fill what is missing; a recipe's other settings
    are ignored)."""
    from zoo.tasks.compress import DecodingSettings

    wanted = ("beam_width", "length_penalty")
    settings = DecodingSettings(**{key: value for key, value in (decoding or {}).items() if key in wanted})
    return {"beam_width": settings.beam_width, "length_penalty": float(settings.length_penalty)}


def endpoints(model: keras.Model, encoder: signatures.TextEncoder, kind: str,
              label_names: list[str] | None, context: int = DEFAULT_CONTEXT,
              decoding: dict | None = None) -> dict:
    """{signature name: (function, input signature)} of the kind, serving_default's first: what
    an export holds, and what `zoo predict` runs in-process on a run folder. `decoding`: an
    encoder-decoder's beam (`decoding_settings`)."""
    text = signatures.text_spec
    if kind == "encoder_decoder":
        decoding = decoding_settings(decoding)
        inputs = [text("source"), tf.TensorSpec([], tf.int32, name="max_length")]
        return {"decode": (signatures.decode_fn(model, encoder, decoding["beam_width"],
                                                decoding["length_penalty"]), inputs),
                "decode_greedy": (signatures.decode_fn(model, encoder, 1, 0.0), inputs)}
    if kind == "acceptor":
        return {"classify": (signatures.classify_fn(model, encoder, label_names), [text("text")])}
    if kind == "pair_encoder":
        return {"classify": (signatures.classify_pair_fn(model, encoder, label_names),
                             [text("premise"), text("hypothesis")])}
    if kind == "transducer":
        return {"tag": (signatures.tag_fn(model, encoder, label_names), [text("text")])}
    if kind == "language_model":
        vocabulary = encoder.vocabulary()
        constant = tf.constant(vocabulary, tf.string)
        return {
            "next": (signatures.next_fn(model, encoder, context), [text("prefix")]),
            "generate": (signatures.generate_fn(model, encoder, context, _separator(vocabulary)),
                         [text("prefix"), tf.TensorSpec([], tf.int32, name="length"),
                          tf.TensorSpec([], tf.float32, name="temperature"),
                          tf.TensorSpec([], tf.int64, name="seed")]),
            "vocabulary": (lambda: {"vocabulary": tf.identity(constant)}, []),
        }
    raise ValueError(f"unknown model kind {kind!r}; known: {KINDS}")


def build_archive(model: keras.Model, encoder: signatures.TextEncoder, kind: str,
                  label_names: list[str] | None, context: int = DEFAULT_CONTEXT,
                  decoding: dict | None = None):
    """A `keras.export.ExportArchive` with the kind's signatures (the first is serving_default)."""
    archive = keras.export.ExportArchive()
    archive.track(model)
    for layer in encoder.layers:  # lookup tables are not found through the endpoints alone
        archive.track(layer)
    for name, (function, input_signature) in endpoints(model, encoder, kind, label_names, context,
                                                       decoding).items():
        archive.add_endpoint(name, function, input_signature=input_signature)
    return archive


def _versions_of_libraries() -> dict:
    import zoo

    return {"zoo": zoo.__version__, "keras": keras.__version__, "tensorflow": tf.__version__}


def build_metadata(model, encoder, kind, label_names, version, name, context, task=None,
                   dataset=None, config=None, hyperparameters=None, test_metrics=None,
                   extra=None, decoding=None) -> dict:
    if config is None:
        config = model.config.to_dict()
    vocabulary = encoder.vocabulary()
    metadata = {
        "name": name,
        "version": version,
        "kind": kind,
        "task": task,
        "dataset": dataset,
        "versions": _versions_of_libraries(),
        "config": config,
        "hyperparameters": hyperparameters,
        "test_metrics": test_metrics,
        "vocabulary_size": len(vocabulary),
        "label_names": label_names,
        "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "serving_default": signatures.DEFAULT_SIGNATURE[kind],
        "signatures": signatures.describe(
            kind, context, decoding_settings(decoding)["beam_width"] if kind == "encoder_decoder" else None),
        "input_handling": (
            "raw UTF-8 strings; invalid UTF-8 bytes become U+FFFD; empty or whitespace-only text "
            "is the single OOV token [UNK] (classifiers return the model's output for it; the "
            "tagger returns no tokens, lengths 0)"),
    }
    if kind == "encoder_decoder":
        metadata["decoding"] = decoding_settings(decoding)
    if kind == "language_model":
        metadata["context"] = context
        metadata["vocabulary"] = vocabulary
        metadata["reserved_ids"] = list(signatures.RESERVED_IDS)
    if extra:
        metadata.update(extra)
    return metadata


def _write_metadata(folder: Path, metadata: dict) -> None:
    (folder / METADATA_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=False, default=str) + "\n")


def _fsync_tree(folder: Path) -> None:
    """Flushes every file (and folder) so the rename publishes complete data."""
    for directory, _, files in os.walk(folder):
        for name in files:
            with open(os.path.join(directory, name), "rb") as handle:
                os.fsync(handle.fileno())
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def export_saved_model(model: keras.Model, vectorizer, path: str | Path, *, version: int | None = None,
                       label_names=None, task: str | None = None, dataset: str | None = None,
                       config: dict | None = None, hyperparameters: dict | None = None,
                       test_metrics: dict | None = None, context: int = DEFAULT_CONTEXT,
                       extra_metadata: dict | None = None, decoding: dict | None = None) -> Path:
    """Exports `model` with `vectorizer` inside the graph to `path/<version>/`; returns that folder.

    Args:
        model: a zoo model (acceptor, transducer, pair encoder, language model or
            encoder-decoder).
        vectorizer: the run's vectorizer (`ZooVectorizer`, `TextVectorization` or
            `TokenVectorizer`).
        path: the model's folder, e.g. `saved_models/sentiment` (its name is the served name).
        version: an integer >= 1 that does not exist yet; default: the next free one.
        label_names: class names in output order (default "0", "1", ...); unused for a language
            model.
        task, dataset, config, hyperparameters, test_metrics: recorded in `metadata.json`
            (`config` defaults to the model's own `config`).
        context: a language model reads at most this many of the latest tokens.
        extra_metadata: more entries for `metadata.json`.
        decoding: an encoder-decoder's `decode` signature: `{"beam_width", "length_penalty"}`
            (default: `DecodingSettings`'s); `decode_greedy` is exported beside it.

    Raises:
        ValueError: the version exists already, the model is not a zoo model, or the graph holds
            an op with no CPU kernel.
    """
    path = Path(path)
    kind = model_kind(model)
    encoder = signatures.TextEncoder(vectorizer)
    _check_char_inputs(model, encoder)
    label_names = _label_names(model, kind, label_names)
    decoding = decoding_settings(decoding) if kind == "encoder_decoder" else None
    if context < 1:
        raise ValueError(f"context must be >= 1, got {context}")
    path.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    if version is None:
        version = next_version(path)
    elif isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"version must be an integer >= 1, got {version!r}")
    target = path / str(version)
    if target.exists():
        raise ValueError(f"{target} exists already: versions are never overwritten "
                         f"(omit the version for the next free one, {next_version(path)})")

    temporary = Path(tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=path))
    try:
        # mkdtemp makes the folder private (0700); a server running as another user must read it.
        umask = os.umask(0)
        os.umask(umask)
        temporary.chmod(0o777 & ~umask)
        # The served graph is the frozen inference model: the first LSTM layer's input
        # projection folded into a table once, from the trained weights.
        served = inference_model(model)
        with generic_recurrent_path(served):
            archive = build_archive(served, encoder, kind, label_names, context, decoding)
            archive.write_out(str(temporary), verbose=False)
        blocked = ops_without_cpu_kernel(graph_op_types(temporary))
        if blocked:
            raise ValueError(f"the exported graph holds ops with no CPU kernel: {blocked}")
        metadata = build_metadata(
            model, encoder, kind, label_names, version, path.name, context, task=task,
            dataset=dataset, config=config, hyperparameters=hyperparameters,
            test_metrics=test_metrics, extra=extra_metadata, decoding=decoding)
        _write_metadata(temporary, metadata)
        _fsync_tree(temporary)
        try:
            # rename(2) is atomic on one filesystem and fails on a non-empty existing folder.
            os.rename(temporary, target)
        except OSError as error:
            raise ValueError(f"cannot publish {target}: {error.strerror} (another export?)") from None
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return target


def export_run(run_dir: str | Path, root: str | Path = DEFAULT_ROOT, version: int | None = None,
               name: str | None = None, context: int = DEFAULT_CONTEXT) -> Path:
    """Exports a run folder to `root/<name>/<version>/` (name: the run folder's name).

    Reads `model.keras` (safe mode), `vectorizer.json`, and, where present, `config.json`,
    `recipe.json` (task, dataset, training settings) and `metrics.json` (test metrics, label
    names) for the metadata; an encoder-decoder's beam comes from the recipe's settings.
    """
    from zoo.loading import load, load_vectorizer

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"no run folder {run_dir}")
    missing = [file for file in ("model.keras", "vectorizer.json") if not (run_dir / file).exists()]
    if missing:
        raise FileNotFoundError(f"{run_dir} is not a finished run folder: missing {', '.join(missing)}")

    def read(file: str) -> dict:
        return json.loads((run_dir / file).read_text()) if (run_dir / file).exists() else {}

    recipe, metrics, config = read("recipe.json"), read("metrics.json"), read("config.json")
    model = load(run_dir)
    vectorizer = load_vectorizer(run_dir)
    return export_saved_model(
        model, vectorizer, Path(root) / check_served_name(name or run_dir.resolve().name), version=version,
        label_names=metrics.get("label_names"), task=recipe.get("task"),
        dataset=recipe.get("dataset"), config=config or None,
        hyperparameters=recipe.get("training"), test_metrics=metrics.get("test"), context=context,
        extra_metadata={"run": str(run_dir.resolve())}, decoding=recipe.get("settings"))
