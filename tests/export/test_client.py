"""Plain-TensorFlow clients: a process where `zoo` cannot be imported, and `zoo predict`."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np

from tests.export.helpers import LM_CONTEXT, keras_probabilities, serve

TOLERANCE = 1e-5

# Runs with `python -I` (no PYTHONPATH, no user site, no script folder on sys.path), then also
# removes every sys.path entry from which `zoo` could be imported and the editable install's
# import hooks; checks that `zoo` is gone, then uses TensorFlow alone.
ISOLATED_CLIENT = r'''
import importlib.machinery, importlib.util, json, sys
sys.meta_path[:] = [f for f in sys.meta_path
                    if "editable" not in (getattr(f, "__module__", "") + getattr(f, "__name__", ""))]
sys.path_hooks[:] = [h for h in sys.path_hooks if "editable" not in getattr(h, "__module__", "")]
sys.path[:] = [p for p in sys.path
               if "__editable__" not in p and importlib.machinery.PathFinder.find_spec("zoo", [p]) is None]
sys.path_importer_cache.clear()
assert importlib.util.find_spec("zoo") is None, "zoo is still importable"
try:
    import zoo
except ImportError:
    pass
else:
    raise AssertionError("import zoo worked")

import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf

requests = json.load(open(sys.argv[1]))
results = {}
for name, (path, signature, inputs) in requests.items():
    loaded = tf.saved_model.load(path)
    arguments = {key: tf.constant(value, dtype={"length": tf.int32, "temperature": tf.float32,
                                                "seed": tf.int64, "max_length": tf.int32}.get(key, tf.string))
                 for key, value in inputs.items()}
    outputs = loaded.signatures[signature](**arguments)
    results[name] = {key: (value.numpy().astype(object).tolist() if value.dtype == tf.string
                           else value.numpy().tolist()) for key, value in outputs.items()}
    for key, value in results[name].items():
        if outputs[key].dtype == tf.string:
            results[name][key] = json.loads(json.dumps(
                value, default=lambda b: b.decode("utf-8", "replace")))
print("ZOO-FREE-RESULTS " + json.dumps({"modules": sorted(m for m in sys.modules if m.split(".")[0] in ("zoo", "recipes")),
                                        "results": results}))
'''

TEXTS = ["the movie was great", "", "I loved it \U0001F600", "café crème , naïve résumé"]
PREFIXES = ["And God said", "", "light"]


def test_a_process_without_zoo_serves_the_same_numbers(all_exports, tmp_path):
    exported = all_exports
    requests = {
        "acceptor": (str(exported["acceptor"].path), "serving_default", {"text": TEXTS}),
        "transducer": (str(exported["transducer"].path), "serving_default", {"text": TEXTS}),
        "pair": (str(exported["pair_encoder"].path), "serving_default",
                 {"premise": TEXTS, "hypothesis": TEXTS[::-1]}),
        "next": (str(exported["language_model"].path), "serving_default", {"prefix": PREFIXES}),
        "generate": (str(exported["language_model"].path), "generate",
                     {"prefix": PREFIXES, "length": 12, "temperature": 0.0, "seed": 0}),
        "decode": (str(exported["encoder_decoder"].path), "serving_default", {"source": TEXTS, "max_length": 0}),
    }
    request_file = tmp_path / "requests.json"
    request_file.write_text(json.dumps(requests))
    completed = subprocess.run([sys.executable, "-I", "-c", ISOLATED_CLIENT, str(request_file)],
                               capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    line = next(l for l in completed.stdout.splitlines() if l.startswith("ZOO-FREE-RESULTS "))
    report = json.loads(line.split(" ", 1)[1])
    assert report["modules"] == []
    results = report["results"]

    acceptor = exported["acceptor"]
    np.testing.assert_allclose(results["acceptor"]["probabilities"],
                               keras_probabilities(acceptor, TEXTS), atol=TOLERANCE)
    assert results["acceptor"]["label"] == [
        acceptor.label_names[i] for i in keras_probabilities(acceptor, TEXTS).argmax(axis=1)]

    tagger = exported["transducer"]
    expected = keras_probabilities(tagger, TEXTS)
    for row, length in enumerate(results["transducer"]["lengths"]):
        np.testing.assert_allclose(np.array(results["transducer"]["probabilities"][row])[:length],
                                   expected[row, :length], atol=TOLERANCE)

    pair = exported["pair_encoder"]
    vectorize = pair.vectorizer.vectorize
    expected = np.asarray(pair.model({"premise": vectorize(TEXTS, ragged=False),
                                      "hypothesis": vectorize(TEXTS[::-1], ragged=False)}, training=False))
    np.testing.assert_allclose(results["pair"]["probabilities"], expected, atol=TOLERANCE)

    lm = exported["language_model"]
    from zoo.models import generate

    vocabulary = lm.vectorizer.get_vocabulary()
    for row, prefix in enumerate(PREFIXES):
        ids = lm.vectorizer.vectorize([prefix], ragged=True)[0].numpy()[-LM_CONTEXT:]
        reference = np.asarray(lm.model(ids[None, :], training=False))[0, -1]
        np.testing.assert_allclose(results["next"]["probabilities"][row], reference, atol=TOLERANCE)
        if prefix:  # zoo.models.generate refuses an empty prefix; the signature reads it as OOV
            assert results["generate"]["text"][row] == generate(
                lm.model, prefix, 12, temperature=0, vocabulary=vocabulary, context=LM_CONTEXT)

    from zoo.models import decode

    seq2seq = exported["encoder_decoder"]
    outputs, scores = decode(seq2seq.model, TEXTS, seq2seq.vectorizer, beam_width=3, return_scores=True)
    assert results["decode"]["text"] == outputs
    np.testing.assert_allclose(results["decode"]["scores"], scores, atol=1e-4)


PREDICT_SCRIPT = r'''
import json, sys
from zoo.cli import main
codes = []
for arguments in json.load(open(sys.argv[1])):
    print("=== " + " ".join(arguments[:2]), flush=True)
    codes.append(main(arguments))
    sys.stdout.flush()
model_code = sorted(m for m in sys.modules
                    if m.startswith(("zoo.models", "zoo.layers", "zoo.cells", "zoo.data", "recipes",
                                     "zoo.export.saved_model", "zoo.export.signatures", "zoo.loading")))
print("=== CODES " + json.dumps({"codes": codes, "model_code": model_code}))
'''


def test_zoo_predict_uses_only_the_saved_model(all_exports, export_root, tmp_path):
    acceptor, pair = all_exports["acceptor"], all_exports["pair_encoder"]
    lines = tmp_path / "inputs.txt"
    lines.write_bytes(b"the movie was great\n\nnot \xff good\r\n")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("the movie was great\tthe film was not good\nI loved it\tit\n")
    invocations = [
        ["predict", str(export_root / "sentiment"), "the movie was great", "not good at all"],
        ["predict", str(acceptor.path), "--file", str(lines), "--json"],
        ["predict", "--pair", str(pair.path), "the movie was great", "the film was not good"],
        ["predict", str(pair.path), "--file", str(pairs), "--pair"],
        ["predict", str(all_exports["transducer"].path), "the movie was great"],
        ["predict", str(all_exports["language_model"].path), "And God", "--top", "3"],
        ["predict", str(all_exports["language_model"].path), "And God", "--generate", "12",
         "--temperature", "0"],
        ["predict", str(pair.path), "one text"],
        ["predict", str(tmp_path), "text"],
    ]
    request_file = tmp_path / "invocations.json"
    request_file.write_text(json.dumps(invocations))
    completed = subprocess.run([sys.executable, "-c", PREDICT_SCRIPT, str(request_file)],
                               capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr[-3000:]
    sections = completed.stdout.split("=== ")[1:]
    # (not stripped: a generated continuation may begin or end with a space)
    outputs = [section.split("\n", 1)[1].rstrip("\n").split("\n") for section in sections[:-1]]
    summary = json.loads(sections[-1].split(" ", 1)[1])
    assert summary["codes"] == [0, 0, 0, 0, 0, 0, 0, 2, 2]
    assert summary["model_code"] == [], "zoo predict imported zoo model code"

    # Plain text: "label<TAB>name=p name=p" per input, the highest version of saved_models/sentiment.
    texts = ["the movie was great", "not good at all"]
    expected = keras_probabilities(acceptor, texts)
    for line, row in zip(outputs[0], expected):
        label, probabilities = line.split("\t")
        assert label == acceptor.label_names[row.argmax()]
        assert probabilities == " ".join(f"{n}={p:.4f}" for n, p in zip(acceptor.label_names, row))
    # --file: one JSON object per line, the empty line and the invalid bytes included.
    records = [json.loads(line) for line in outputs[1]]
    file_texts = ["the movie was great", "", "not \ufffd good"]
    assert len(records) == 3
    np.testing.assert_allclose([list(r["probabilities"].values()) for r in records],
                               keras_probabilities(acceptor, file_texts), atol=1e-6)
    # --pair, from arguments and from a TSV file.
    pair_reference = serve(pair, premise=["the movie was great", "I loved it"],
                           hypothesis=["the film was not good", "it"])
    assert outputs[2][0].split("\t")[0] == pair_reference["label"][0].decode()
    assert [line.split("\t")[0] for line in outputs[3]] == [l.decode() for l in pair_reference["label"]]
    # Tagger: token/TAG pairs.
    assert [pair_.split("/")[0] for pair_ in outputs[4][0].split()] == "the movie was great".split()
    # Language model: the top 3 next characters, and a greedy continuation.
    # Each token is JSON-quoted, so a space token reads '" "=0.0440': count the "=p" parts.
    assert len(re.findall(r'"=\d\.\d{4}', outputs[5][0])) == 3
    from zoo.models import generate

    lm = all_exports["language_model"]
    assert outputs[6][0] == generate(lm.model, "And God", 12, temperature=0,
                                     vocabulary=lm.vectorizer.get_vocabulary(), context=LM_CONTEXT)
    # Errors are one clear line each.
    assert "use --pair" in completed.stderr and "holds no SavedModel" in completed.stderr


def test_zoo_predict_on_a_run_folder_prints_what_its_export_prints(acceptor_export, capsys):
    """In process (`zoo predict runs/<task>`): the export's own signature functions on the run's
    model frozen by `zoo.inference_model`, so the same lines as from the SavedModel."""
    from zoo import cli

    texts = ["the movie was great", "", "not good at all"]
    assert cli.main(["predict", str(acceptor_export.path), *texts, "--json"]) == 0
    served = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert cli.main(["predict", str(acceptor_export.run_dir), *texts, "--json"]) == 0
    in_process = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["label"] for r in in_process] == [r["label"] for r in served]
    np.testing.assert_allclose([list(r["probabilities"].values()) for r in in_process],
                               [list(r["probabilities"].values()) for r in served], atol=1e-6)
    assert list(in_process[0]["probabilities"]) == acceptor_export.label_names
