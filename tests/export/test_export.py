"""The export's folder layout, metadata, versions, atomicity and portability (no cuDNN-only ops)."""
from __future__ import annotations

import datetime
import hashlib
import importlib
import json
import stat

import pytest

from tests.export.helpers import loaded_export, simulated_gpu

# --- layout, versions, metadata -------------------------------------------------------------


def _tree_digest(folder) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_cli_export_writes_next_free_version(acceptor_export, export_root):
    version = acceptor_export.path
    # Version 1 existed (and a stale temporary folder of a killed export): the export is 2.
    assert version == export_root / "sentiment" / "2"
    assert acceptor_export.cli_output.strip() == str(version)
    assert (version / "saved_model.pb").exists() and (version / "variables").is_dir()
    assert (export_root / "sentiment" / "1" / "keep.txt").read_text() == "an older version\n"
    leftovers = {p.name for p in (export_root / "sentiment").iterdir()}
    assert leftovers == {"1", "2", ".tmp-2-killed"}
    # Readable by a server running as another user (mkdtemp would have made it 0700).
    assert version.stat().st_mode & stat.S_IROTH and version.stat().st_mode & stat.S_IXOTH


def test_metadata_records_the_run(acceptor_export):
    import keras
    import tensorflow as tf

    import zoo

    metadata = json.loads((acceptor_export.path / "metadata.json").read_text())
    assert metadata["versions"] == {"zoo": zoo.__version__, "keras": keras.__version__,
                                    "tensorflow": tf.__version__}
    assert metadata["name"] == "sentiment" and metadata["version"] == 2
    assert metadata["task"] == "sentiment" and metadata["kind"] == "acceptor"
    assert metadata["dataset"] == "uci_sentiment"
    assert metadata["config"]["kind"] == "AcceptorConfig"
    assert metadata["config"]["encoder"]["units"] == 4
    assert metadata["hyperparameters"] == {"batch_size": 32, "epochs": 1}
    assert metadata["test_metrics"] == {"accuracy": 0.5, "loss": 0.69}
    assert metadata["vocabulary_size"] == acceptor_export.vectorizer.vocabulary_size()
    assert metadata["label_names"] == ["negative", "positive"]
    exported_at = datetime.datetime.fromisoformat(metadata["exported_at"])
    assert abs(datetime.datetime.now(datetime.timezone.utc) - exported_at).total_seconds() < 3600
    assert metadata["serving_default"] == "classify"
    assert set(metadata["signatures"]["classify"]["outputs"]) == {"probabilities", "label"}


def test_language_model_metadata_has_the_characters(lm_export):
    metadata = json.loads((lm_export.path / "metadata.json").read_text())
    assert metadata["vocabulary"] == lm_export.vectorizer.get_vocabulary()
    assert metadata["context"] == 8 and metadata["label_names"] is None
    assert set(metadata["signatures"]) == {"next", "generate", "vocabulary"}


def test_transducer_metadata_documents_padding(transducer_export):
    metadata = json.loads((transducer_export.path / "metadata.json").read_text())
    outputs = metadata["signatures"]["tag"]["outputs"]
    assert "lengths" in outputs and "''" in outputs["tags"]


def test_next_version_ignores_non_integer_folders(tmp_path):
    from zoo.export.saved_model import next_version, versions

    assert next_version(tmp_path / "missing") == 1
    for name in ("3", "10", ".tmp-11-x", "latest", "7b"):
        (tmp_path / name).mkdir()
    (tmp_path / "12").write_text("a file, not a version")
    assert versions(tmp_path) == [3, 10] and next_version(tmp_path) == 11


def test_existing_version_is_refused_before_any_work(acceptor_export, export_root, capsys):
    from zoo import cli
    from zoo.export import export_saved_model

    before = _tree_digest(acceptor_export.path)
    with pytest.raises(ValueError, match="exists already"):
        export_saved_model(acceptor_export.model, acceptor_export.vectorizer,
                           export_root / "sentiment", version=2)
    with pytest.raises(ValueError, match="integer >= 1"):
        export_saved_model(acceptor_export.model, acceptor_export.vectorizer,
                           export_root / "sentiment", version=0)
    code = cli.main(["export", str(acceptor_export.run_dir), "--root", str(export_root), "--version", "1"])
    assert code == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("zoo export: error:") and "exists already" in error and "\n" not in error
    assert _tree_digest(acceptor_export.path) == before


def test_export_cli_clear_error_for_missing_run(tmp_path, capsys):
    from zoo import cli

    assert cli.main(["export", str(tmp_path / "nope"), "--root", str(tmp_path)]) == 2
    assert "no run folder" in capsys.readouterr().err
    (tmp_path / "half").mkdir()
    assert cli.main(["export", str(tmp_path / "half"), "--root", str(tmp_path)]) == 2
    assert "missing model.keras, vectorizer.json" in capsys.readouterr().err


def test_failed_export_leaves_no_version_and_keeps_existing_ones(acceptor_export, export_root,
                                                                  monkeypatch):
    """The SavedModel is fully written to the temporary folder, then the export dies."""
    from zoo.export import saved_model

    folder = export_root / "sentiment"
    before = {name: _tree_digest(folder / name) for name in ("1", "2")}
    written = []

    def die(temporary, metadata):
        written.append(sorted(p.name for p in temporary.iterdir()))
        raise RuntimeError("killed mid-export")

    monkeypatch.setattr(saved_model, "_write_metadata", die)
    with pytest.raises(RuntimeError, match="killed mid-export"):
        saved_model.export_saved_model(acceptor_export.model, acceptor_export.vectorizer, folder)
    assert "saved_model.pb" in written[0]  # it did die half way
    assert {p.name for p in folder.iterdir()} == {"1", "2", ".tmp-2-killed"}
    assert saved_model.next_version(folder) == 3
    assert {name: _tree_digest(folder / name) for name in ("1", "2")} == before


# --- portability ------------------------------------------------------------------------------


def _op_types(graph_def) -> set[str]:
    types = {node.op for node in graph_def.node}
    for function in graph_def.library.function:
        types |= {node.op for node in function.node_def}
    return types


def test_no_cudnn_ops_in_any_exported_graph(all_exports):
    """Exported while Keras believed a GPU was visible; no cuDNN op may remain."""
    from zoo.export.saved_model import graph_op_types, ops_without_cpu_kernel

    for kind, exported in all_exports.items():
        for name, function in loaded_export(exported.path).signatures.items():
            types = _op_types(function.graph.as_graph_def())
            assert not [t for t in types if t.startswith("Cudnn")], (kind, name)
        assert "While" in graph_op_types(exported.path)  # the generic recurrent loop
        assert ops_without_cpu_kernel(graph_op_types(exported.path)) == [], kind


def test_without_the_switch_the_simulated_gpu_gives_cudnn_ops(acceptor_export, transducer_export):
    """The control: the same models traced plainly under the simulated GPU hold CudnnRNNV3."""
    import tensorflow as tf

    from zoo.export.saved_model import generic_recurrent_path, ops_without_cpu_kernel

    for exported in (acceptor_export, transducer_export):
        spec = tf.TensorSpec([None, None], tf.int32)
        with simulated_gpu():
            plain = tf.function(lambda ids: exported.model(ids, training=False))
            types = _op_types(plain.get_concrete_function(spec).graph.as_graph_def())
            assert "CudnnRNNV3" in types
            assert "CudnnRNNV3" in ops_without_cpu_kernel(types)
            with generic_recurrent_path(exported.model):
                generic = tf.function(lambda ids: exported.model(ids, training=False))
                types = _op_types(generic.get_concrete_function(spec).graph.as_graph_def())
            assert not [t for t in types if t.startswith("Cudnn")]


def test_generic_path_reaches_nested_layers_and_is_restored():
    import keras

    import zoo.models as zm
    from zoo.export.saved_model import generic_recurrent_path, recurrent_layers

    model = zm.acceptor(zm.AcceptorConfig(
        vocabulary_size=10, embedding_dim=4,
        encoder=zm.EncoderConfig(cell="gru", units=4, layers=2, bidirectional=True, use_cudnn="true")))
    layers = recurrent_layers(model)
    assert len(layers) == 4 and all(isinstance(layer, keras.layers.GRU) for layer in layers)
    assert {layer.name.split("_")[0] for layer in layers} == {"forward", "backward"}
    with generic_recurrent_path(model):
        assert [layer.use_cudnn for layer in layers] == [False] * 4
        # use_cudnn=True has no CPU fallback: it runs here only because the switch is on.
        model(keras.ops.ones((2, 3), dtype="int32"))
    assert [layer.use_cudnn for layer in layers] == [True] * 4


def test_keras_module_for_the_simulation_exists():
    # The simulation patches Keras internals; fail loudly (not silently pass) if they move.
    rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")
    assert callable(rnn._is_gpu_available)


def test_fused_lstm_exports_without_xla_and_matches_keras(tmp_path):
    """The default CPU path (FusedLSTM) exports plain loops: no XLA-only function in the graph,
    and the served probabilities equal the Keras model's."""
    import numpy as np

    import zoo.models as zm
    from zoo.data.vectorize import ZooVectorizer, build_word_vectorizer
    from zoo.export.saved_model import export_saved_model, graph_op_types, ops_without_cpu_kernel

    texts = ["a good film", "a bad film", "not good at all", ""]
    vectorizer = ZooVectorizer(build_word_vectorizer(texts[:3]))
    model = zm.acceptor(zm.AcceptorConfig(
        vocabulary_size=len(vectorizer.get_vocabulary()), embedding_dim=4,
        encoder=zm.EncoderConfig(cell="lstm", units=3, bidirectional=True), seed=2))
    assert model.get_layer("encoder").implementation_used == "fused"
    path = export_saved_model(model, vectorizer, tmp_path / "fused", label_names=["neg", "pos"])
    types = graph_op_types(path)
    assert {"While", "StatelessWhile"} & types and ops_without_cpu_kernel(types) == []
    assert not [t for t in types if "Xla" in t]
    assert b"_XlaMustCompile" not in (path / "saved_model.pb").read_bytes()
    import tensorflow as tf

    served = loaded_export(path).signatures["classify"](text=tf.constant(texts))
    expected = model.predict(vectorizer.vectorize(texts, ragged=False), verbose=0)
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, atol=1e-5)


def test_the_export_serves_the_folded_inference_model(tmp_path):
    """The served graph reads each token's first-layer input projection from one table, computed
    at export from the trained weights, and no embedding matrix: `zoo.models.inference_model`."""
    import numpy as np
    import tensorflow as tf

    import zoo.models as zm
    from zoo.data.vectorize import ZooVectorizer, build_word_vectorizer
    from zoo.export.saved_model import export_saved_model

    texts = ["a good film", "a bad film", "not good at all", ""]
    vectorizer = ZooVectorizer(build_word_vectorizer(texts[:3]))
    model = zm.pair_encoder(zm.PairEncoderConfig(
        vocabulary_size=len(vectorizer.get_vocabulary()), embedding_dim=4,
        encoder=zm.EncoderConfig(cell="lstm", units=3, bidirectional=True), seed=5))
    assert model.foldable[0]
    path = export_saved_model(model, vectorizer, tmp_path / "pair", label_names=["e", "n", "c"])
    served = loaded_export(path)
    shapes = sorted(tuple(v.shape) for v in served.variables)
    vocabulary_size = len(vectorizer.get_vocabulary())
    assert (vocabulary_size, 4 * 2 * 3) in shapes  # the table: 4 gates x 2 directions x 3 units
    assert (vocabulary_size, 4) not in shapes  # the embedding matrix is folded away
    out = served.signatures["classify"](premise=tf.constant(texts), hypothesis=tf.constant(texts[::-1]))
    ids = {"premise": vectorizer.vectorize(texts, ragged=False),
           "hypothesis": vectorizer.vectorize(texts[::-1], ragged=False)}
    np.testing.assert_allclose(out["probabilities"].numpy(), np.asarray(model(ids, training=False)), atol=1e-5)


def test_stale_temporary_folders_go_fresh_ones_stay(tmp_path):
    import os
    import time

    from zoo.export.saved_model import remove_stale_temporaries

    stale, fresh = tmp_path / ".tmp-3-killed", tmp_path / ".tmp-4-writing"
    stale.mkdir()
    fresh.mkdir()
    (tmp_path / "1").mkdir()
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(stale, (two_days_ago, two_days_ago))
    assert remove_stale_temporaries(tmp_path) == [stale]
    assert fresh.is_dir() and (tmp_path / "1").is_dir() and not stale.exists()


@pytest.mark.parametrize("name", ["..", "../outside", "a/b", "."])
def test_a_served_name_cannot_leave_the_export_root(acceptor_export, tmp_path, capsys, name):
    from zoo import cli

    assert cli.main(["export", str(acceptor_export.run_dir), "--root", str(tmp_path / "root"), "--name", name]) == 2
    assert "--name must be a plain folder name" in capsys.readouterr().err
    assert not (tmp_path / "outside").exists()
