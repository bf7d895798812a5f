"""A plain-TensorFlow client of an export: `tf.saved_model.load` and its signatures, nothing else.

This module imports no zoo model code (and no Keras): it is what `zoo predict` runs, and what any
Python process with TensorFlow can copy. Which signature to call comes from the SavedModel itself
(its input names); `metadata.json`, when present beside `saved_model.pb`, only adds label names.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import tensorflow as tf

METADATA_FILE = "metadata.json"
CHUNK = 256  # inputs per call, so a long --file does not become one huge batch


def resolve(path: str | Path) -> Path:
    """A version folder (holds `saved_model.pb`), or a model folder (its highest version)."""
    path = Path(path)
    if (path / "saved_model.pb").exists():
        return path
    if path.is_dir():
        numbered = sorted((int(entry.name) for entry in path.iterdir()
                           if entry.is_dir() and entry.name.isdigit()
                           and (entry / "saved_model.pb").exists()))
        if numbered:
            return path / str(numbered[-1])
    raise FileNotFoundError(
        f"{path} holds no SavedModel (expected saved_model.pb in it, or version folders "
        f"<name>/<N>/saved_model.pb as `zoo export` writes)")


def as_bytes(text) -> bytes:
    """Command-line strings keep undecodable bytes as surrogates: give the original bytes back."""
    if isinstance(text, bytes):
        return text
    return str(text).encode("utf-8", "surrogateescape")


def refusal(message: str) -> str:
    """The line of a graph error that says why: a signature's own assertion where there is one
    (graph mode puts "Graph execution error:" and a node trace around it)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("assertion failed:"):
            return line[len("assertion failed:"):].strip()
    return lines[0] if lines else message


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


class ServedModel:
    """One loaded export: `kind` is "classify", "classify_pair", "tag", "language_model" or
    "decode" (an encoder-decoder)."""

    def __init__(self, path: str | Path):
        self.path = resolve(path)
        self.metadata = {}
        metadata_file = self.path / METADATA_FILE
        if metadata_file.exists():
            self.metadata = json.loads(metadata_file.read_text())
        self.loaded = tf.saved_model.load(str(self.path))
        self.signatures = self.loaded.signatures
        if "serving_default" not in self.signatures:
            raise ValueError(f"{self.path} has no serving_default signature")
        default = self.signatures["serving_default"]
        inputs = set(default.structured_input_signature[1])
        outputs = set(default.structured_outputs)
        if inputs == {"premise", "hypothesis"}:
            self.kind = "classify_pair"
        elif inputs == {"prefix"}:
            self.kind = "language_model"
        elif inputs == {"source", "max_length"}:
            self.kind = "decode"
        elif inputs == {"text"} and "tags" in outputs:
            self.kind = "tag"
        elif inputs == {"text"}:
            self.kind = "classify"
        else:
            raise ValueError(f"{self.path}: serving_default takes {sorted(inputs)}, which zoo "
                             f"predict does not know")

    def label_names(self, classes: int) -> list[str]:
        names = self.metadata.get("label_names")
        return list(names) if names and len(names) == classes else [str(i) for i in range(classes)]

    def _call(self, name: str, **inputs) -> dict:
        try:
            return {key: value.numpy() for key, value in self.signatures[name](**inputs).items()}
        except tf.errors.InvalidArgumentError as error:
            raise ValueError(f"the model refused the input: {refusal(error.message)}") from None

    def classify(self, texts: Sequence) -> list[dict]:
        results = []
        for start in range(0, len(texts), CHUNK):
            batch = tf.constant([as_bytes(text) for text in texts[start:start + CHUNK]], tf.string)
            out = self._call("serving_default", text=batch)
            names = self.label_names(out["probabilities"].shape[-1])
            for label, row in zip(out["label"], out["probabilities"]):
                results.append({"label": _text(label),
                                "probabilities": {n: float(p) for n, p in zip(names, row)}})
        return results

    def classify_pairs(self, pairs: Sequence[tuple]) -> list[dict]:
        results = []
        for start in range(0, len(pairs), CHUNK):
            chunk = pairs[start:start + CHUNK]
            out = self._call(
                "serving_default",
                premise=tf.constant([as_bytes(p) for p, _ in chunk], tf.string),
                hypothesis=tf.constant([as_bytes(h) for _, h in chunk], tf.string))
            names = self.label_names(out["probabilities"].shape[-1])
            for label, row in zip(out["label"], out["probabilities"]):
                results.append({"label": _text(label),
                                "probabilities": {n: float(p) for n, p in zip(names, row)}})
        return results

    def tag(self, texts: Sequence) -> list[dict]:
        results = []
        for start in range(0, len(texts), CHUNK):
            batch = tf.constant([as_bytes(text) for text in texts[start:start + CHUNK]], tf.string)
            out = self._call("serving_default", text=batch)
            for tokens, tags, length in zip(out["tokens"], out["tags"], out["lengths"]):
                results.append({"tokens": [_text(t) for t in tokens[:length]],
                                "tags": [_text(t) for t in tags[:length]]})
        return results

    def vocabulary(self) -> list[str]:
        if "vocabulary" in self.metadata:
            return list(self.metadata["vocabulary"])
        return [_text(t) for t in self._call("vocabulary")["vocabulary"]]

    def next_token(self, prefixes: Sequence, top: int = 5) -> list[dict]:
        vocabulary = self.vocabulary()
        results = []
        for start in range(0, len(prefixes), CHUNK):
            batch = tf.constant([as_bytes(p) for p in prefixes[start:start + CHUNK]], tf.string)
            out = self._call("serving_default", prefix=batch)
            for row in out["probabilities"]:
                best = row.argsort()[::-1][:top]
                results.append({"next": {vocabulary[i]: float(row[i]) for i in best}})
        return results

    def generate(self, prefixes: Sequence, length: int, temperature: float = 1.0,
                 seed: int = 0) -> list[dict]:
        out = self._call(
            "generate", prefix=tf.constant([as_bytes(p) for p in prefixes], tf.string),
            length=tf.constant(length, tf.int32), temperature=tf.constant(temperature, tf.float32),
            seed=tf.constant(seed, tf.int64))
        return [{"continuation": _text(text)} for text in out["text"]]


    def decode(self, sources: Sequence, max_length: int = 0, greedy: bool = False) -> list[dict]:
        """Each source's output text and its log-probability; beam search as exported (its
        width in `metadata.json`), or greedy search; `max_length` 0: twice the source plus 10."""
        name = "decode_greedy" if greedy else "serving_default"
        results = []
        for start in range(0, len(sources), CHUNK):
            batch = tf.constant([as_bytes(text) for text in sources[start:start + CHUNK]], tf.string)
            out = self._call(name, source=batch, max_length=tf.constant(max_length, tf.int32))
            results += [{"output": _text(text), "score": float(score)}
                        for text, score in zip(out["text"], out["scores"])]
        return results


def format_result(kind: str, result: dict) -> str:
    """One line per input, for people (`zoo predict` without --json)."""
    if "label" in result:
        probabilities = " ".join(f"{name}={p:.4f}" for name, p in result["probabilities"].items())
        return f"{result['label']}\t{probabilities}"
    if "tags" in result:
        return " ".join(f"{token}/{tag}" for token, tag in zip(result["tokens"], result["tags"]))
    if "next" in result:
        return " ".join(f"{json.dumps(token, ensure_ascii=False)}={p:.4f}"
                        for token, p in result["next"].items())
    if "output" in result:
        return result["output"]
    return result["continuation"]


def read_lines(file: str) -> list[bytes]:
    """A file's lines as bytes (one input per line; "-" reads standard input)."""
    import sys

    data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def predict(path, texts: Sequence = (), file: str | None = None, pair: bool = False,
            top: int = 5, generate: int | None = None, temperature: float = 1.0,
            seed: int = 0, model: ServedModel | None = None, greedy: bool = False,
            max_length: int = 0) -> tuple[str, list[dict]]:
    """Runs an export on command-line inputs; returns (kind, one result per input).

    `model`: an already loaded model with `ServedModel`'s interface (default: `ServedModel(path)`;
    `zoo predict` passes `zoo.export.in_process.RunModel` for a run folder).
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ValueError(f"--top must be a positive number of tokens, got {top}")
    inputs = list(texts)
    if file is not None:
        inputs += read_lines(file)
    if not inputs:
        raise ValueError("no input: give texts as arguments or --file FILE (one input per line)")
    model = ServedModel(path) if model is None else model
    if pair != (model.kind == "classify_pair"):
        if pair:
            raise ValueError("--pair needs a premise/hypothesis model; this export takes one text")
        raise ValueError("this export classifies premise/hypothesis pairs: use --pair")
    if pair:
        if file is not None:
            pairs = []
            for number, line in enumerate(read_lines(file), 1):
                if b"\t" not in line:
                    raise ValueError(f"{file}:{number}: expected 'premise<TAB>hypothesis'")
                premise, hypothesis = line.split(b"\t", 1)
                pairs.append((premise, hypothesis))
            extra = list(texts)
        else:
            pairs, extra = [], list(texts)
        if len(extra) % 2:
            raise ValueError("--pair takes premise and hypothesis arguments two by two")
        pairs = [(extra[i], extra[i + 1]) for i in range(0, len(extra), 2)] + pairs
        return model.kind, model.classify_pairs(pairs)
    if generate is not None and model.kind != "language_model":
        raise ValueError("--generate needs a language model export")
    if (greedy or max_length) and model.kind != "decode":
        raise ValueError("--greedy and --max-length need an encoder-decoder export")
    if model.kind == "decode":
        return model.kind, model.decode(inputs, max_length, greedy)
    if model.kind == "classify":
        return model.kind, model.classify(inputs)
    if model.kind == "tag":
        return model.kind, model.tag(inputs)
    if generate is not None:
        return model.kind, model.generate(inputs, generate, temperature, seed)
    return model.kind, model.next_token(inputs, top)
