"""One tiny exported model per task, shared by the export tests (session scope: exports are slow).

Every export is made while Keras is told a GPU is visible (`_is_gpu_available` patched to True):
without the export's generic-path switch, tracing would then put `CudnnRNNV3` ops in the graph
(see test_portability). Models are untrained (units 4, vocabularies from a few sentences): the
tests compare the SavedModel with the in-process Keras model, not with labels.
"""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from tests.export.helpers import (
    CORPUS, LM_CONTEXT, NLI_LABELS, SENTENCES, SENTIMENT_LABELS, TAG_NAMES, TAGGED, Exported,
    simulated_gpu,
)

def _encoder(cell: str, bidirectional: bool = False):
    import zoo.models as zm

    # Keras' built-in layers: the export tests check that their cuDNN path is switched off.
    return zm.EncoderConfig(cell=cell, implementation="builtin" if cell != "gated_elman" else "auto",
                            units=4, bidirectional=bidirectional)


def write_run_folder(tmp_path_factory, name, model, config, vectorizer, **json_files) -> Path:
    """A run folder as `zoo train` writes it: `model.keras`, `config.json`, `vectorizer.json`,
    and the given JSON files (`recipe=...` -> `recipe.json`)."""
    from zoo.tasks import save_config, save_vectorizer

    run_dir = tmp_path_factory.mktemp("runs") / name
    run_dir.mkdir()
    model.save(run_dir / "model.keras")
    save_config(run_dir, config)
    save_vectorizer(run_dir, vectorizer)
    for stem, values in json_files.items():
        (run_dir / f"{stem}.json").write_text(json.dumps(values))
    return run_dir


def export_with_the_cli(run_dir: Path, export_root: Path) -> str:
    """`zoo export RUN --root ROOT` (under the simulated GPU); its printed output."""
    from zoo import cli

    output = io.StringIO()
    with simulated_gpu(), contextlib.redirect_stdout(output):
        code = cli.main(["export", str(run_dir), "--root", str(export_root)])
    assert code == 0
    return output.getvalue()


@pytest.fixture(scope="session")
def export_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("saved_models")


@pytest.fixture(scope="session")
def acceptor_export(tmp_path_factory, export_root) -> Exported:
    """A sentiment-like run folder exported with `zoo export` (the CLI, in process).

    The export folder already holds a version 1 (not a SavedModel) and a stale temporary folder
    of a killed export, so the next free version is 2.
    """
    import zoo.models as zm
    from zoo.data.vectorize import ZooVectorizer, build_word_vectorizer

    vectorizer = ZooVectorizer(build_word_vectorizer(SENTENCES))
    config = zm.AcceptorConfig(vocabulary_size=vectorizer.vocabulary_size(), embedding_dim=4,
                               encoder=_encoder("lstm", bidirectional=True), seed=3)
    model = zm.acceptor(config)
    run_dir = write_run_folder(
        tmp_path_factory, "sentiment", model, config, vectorizer,
        recipe={"task": "sentiment", "dataset": "uci_sentiment", "training": {"batch_size": 32, "epochs": 1}},
        metrics={"test": {"accuracy": 0.5, "loss": 0.69}, "label_names": SENTIMENT_LABELS})
    (export_root / "sentiment" / "1").mkdir(parents=True)
    (export_root / "sentiment" / "1" / "keep.txt").write_text("an older version\n")
    (export_root / "sentiment" / ".tmp-2-killed").mkdir()
    output = export_with_the_cli(run_dir, export_root)
    return Exported("acceptor", model, vectorizer, export_root / "sentiment" / "2",
                    SENTIMENT_LABELS, output, run_dir)


@pytest.fixture(scope="session")
def transducer_export(export_root) -> Exported:
    import zoo.models as zm
    from zoo.data.vectorize import build_token_vectorizer
    from zoo.export import export_saved_model

    vectorizer = build_token_vectorizer([tokens for tokens, _ in TAGGED])
    model = zm.transducer(zm.TransducerConfig(
        vocabulary_size=vectorizer.vocabulary_size(), embedding_dim=4,
        encoder=_encoder("gru", bidirectional=True), num_classes=len(TAG_NAMES), seed=5))
    with simulated_gpu():
        path = export_saved_model(model, vectorizer, export_root / "pos", label_names=TAG_NAMES,
                                  task="pos")
    return Exported("transducer", model, vectorizer, path, TAG_NAMES)


@pytest.fixture(scope="session")
def char_transducer_export(tmp_path_factory, export_root) -> Exported:
    """A tagger with character features, saved as a run folder and exported with `zoo export`."""
    import zoo.models as zm
    from zoo.data.vectorize import build_token_vectorizer

    vectorizer = build_token_vectorizer([tokens for tokens, _ in TAGGED], max_word_chars=5)
    config = zm.TransducerConfig(
        vocabulary_size=vectorizer.vocabulary_size(), embedding_dim=4,
        encoder=_encoder("lstm", bidirectional=True), num_classes=len(TAG_NAMES), seed=13,
        char_features=zm.CharFeaturesConfig(
            vocabulary_size=len(vectorizer.get_char_vocabulary()), embedding_dim=3, filters=4,
            kernel_size=3, max_word_chars=5))
    model = zm.transducer(config)
    run_dir = write_run_folder(tmp_path_factory, "pos_chars", model, config, vectorizer,
                               metrics={"label_names": TAG_NAMES})
    output = export_with_the_cli(run_dir, export_root)
    return Exported("transducer", model, vectorizer, export_root / "pos_chars" / "1", TAG_NAMES,
                    output, run_dir)


@pytest.fixture(scope="session")
def pair_export(export_root) -> Exported:
    import zoo.models as zm
    from zoo.data.vectorize import ZooVectorizer, build_word_vectorizer
    from zoo.export import export_saved_model

    vectorizer = ZooVectorizer(build_word_vectorizer(SENTENCES))
    model = zm.pair_encoder(zm.PairEncoderConfig(
        vocabulary_size=vectorizer.vocabulary_size(), embedding_dim=4, encoder=_encoder("lstm"),
        hidden_units=4, seed=7))
    with simulated_gpu():
        path = export_saved_model(model, vectorizer, export_root / "snli", label_names=NLI_LABELS,
                                  task="snli")
    return Exported("pair_encoder", model, vectorizer, path, NLI_LABELS)


@pytest.fixture(scope="session")
def lm_export(export_root) -> Exported:
    import zoo.models as zm
    from zoo.data.vectorize import ZooVectorizer, build_char_vectorizer
    from zoo.export import export_saved_model

    vectorizer = ZooVectorizer(build_char_vectorizer([CORPUS]))
    model = zm.language_model(zm.LanguageModelConfig(
        vocabulary_size=vectorizer.vocabulary_size(), embedding_dim=4, encoder=_encoder("gru"),
        seed=11))
    with simulated_gpu():
        path = export_saved_model(model, vectorizer, export_root / "char_lm", task="char_lm",
                                  context=LM_CONTEXT)
    return Exported("language_model", model, vectorizer, path)


@pytest.fixture(scope="session")
def seq2seq_export(tmp_path_factory, export_root) -> Exported:
    """An encoder-decoder run folder exported with `zoo export`; its recipe asks for a beam of 3.

    Trained for 10 full-batch steps to copy `SENTENCES`: half-learned, so its outputs end at
    several lengths and greedy and beam search disagree on some (an untrained model writes
    `max_length` tokens or none, which would check little).
    """
    import keras
    import numpy as np

    import zoo.models as zm
    from zoo.conventions import END_ID, END_TOKEN, START_ID, START_TOKEN
    from zoo.data.vectorize import ZooVectorizer, build_word_vectorizer

    vectorizer = ZooVectorizer(build_word_vectorizer(SENTENCES, leading_tokens=(START_TOKEN, END_TOKEN)))
    config = zm.EncoderDecoderConfig(
        vocabulary_size=vectorizer.vocabulary_size(), embedding_dim=8,
        encoder=zm.EncoderConfig(cell="lstm", implementation="builtin", units=8, bidirectional=True),
        attention="general", seed=17)
    model = zm.encoder_decoder(config)
    rows = vectorizer.vectorize(SENTENCES, ragged=True).to_list()
    width = max(map(len, rows))
    source, target_in, target_out = (np.zeros((len(rows), width + extra), "int32") for extra in (0, 1, 1))
    for index, row in enumerate(rows):
        source[index, :len(row)] = row
        target_in[index, :len(row) + 1] = [START_ID, *row]
        target_out[index, :len(row) + 1] = [*row, END_ID]
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy")
    model.fit({"source": source, "target": target_in}, target_out,
              sample_weight=(target_out > 0).astype("float32"), epochs=10, verbose=0)
    run_dir = write_run_folder(
        tmp_path_factory, "compress", model, config, vectorizer,
        recipe={"task": "compress", "dataset": "snli_entailment",
                "settings": {"kind": "DecodingSettings", "beam_width": 3, "length_penalty": 0.6,
                             "max_length": 0, "examples": 8}})
    output = export_with_the_cli(run_dir, export_root)
    return Exported("encoder_decoder", model, vectorizer, export_root / "compress" / "1", None,
                    output, run_dir)


@pytest.fixture(scope="session")
def all_exports(acceptor_export, transducer_export, pair_export, lm_export, seq2seq_export) -> dict:
    return {e.kind: e for e in (acceptor_export, transducer_export, pair_export, lm_export, seq2seq_export)}
