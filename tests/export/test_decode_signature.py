"""The encoder-decoder's export: raw source strings in, greedy and beam search inside the graph,
the same outputs and scores as `zoo.models.decode` in Python on the same model."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.export.helpers import loaded_export, serve

SOURCES = ["the movie was great", "a terrible , boring film", "I loved it !", "not good at all",
           "the actors were great but the plot was not", "great", "Unseen WORDS", "café crème"]


@pytest.mark.parametrize("signature, beam_width", [("decode_greedy", 1), ("decode", 3), ("serving_default", 3)])
def test_the_graph_search_equals_the_python_search(seq2seq_export, signature, beam_width):
    from zoo.models import decode

    out = serve(seq2seq_export, signature, source=SOURCES, max_length=np.int32(0))
    expected, scores = decode(seq2seq_export.model, SOURCES, seq2seq_export.vectorizer,
                              beam_width=beam_width, length_penalty=0.6, return_scores=True)
    assert [text.decode() for text in out["text"]] == expected
    np.testing.assert_allclose(out["scores"], scores, atol=1e-4)
    assert out["lengths"].tolist() == [len(text.split()) for text in expected]
    vocabulary = seq2seq_export.vectorizer.get_vocabulary()
    for row, length in zip(out["ids"], out["lengths"]):
        assert (row[length:] == 0).all() and 0 not in row[:length].tolist()
    assert " ".join(vocabulary[i] for i in out["ids"][0][: out["lengths"][0]]) == expected[0]
    # The random model writes outputs of several lengths (else this test would check little).
    assert len(set(out["lengths"].tolist())) > 2


def test_beam_never_scores_below_greedy_and_differs_somewhere(seq2seq_export):
    greedy = serve(seq2seq_export, "decode_greedy", source=SOURCES, max_length=np.int32(12))
    beam = serve(seq2seq_export, "decode", source=SOURCES, max_length=np.int32(12))
    # The beam picks by normalised score; an unnormalised comparison holds for its best only when
    # no length penalty reorders: check the outputs differ somewhere and the lengths are bounded.
    assert (greedy["lengths"] <= 12).all() and (beam["lengths"] <= 12).all()
    assert greedy["text"].tolist() != beam["text"].tolist()


def test_max_length_bounds_the_output(seq2seq_export):
    out = serve(seq2seq_export, "decode_greedy", source=SOURCES, max_length=np.int32(1))
    # One step: a row either ends at once (empty text) or writes one token.
    assert set(out["lengths"].tolist()) <= {0, 1}
    assert out["ids"].shape[1] <= 1


def test_bad_input_is_a_defined_result_or_a_clear_refusal(seq2seq_export):
    import tensorflow as tf

    from zoo.models import decode

    # Empty text reads as the OOV token; invalid UTF-8 becomes U+FFFD (read as OOV here).
    out = serve(seq2seq_export, "decode", source=tf.constant(["", "   ", b"\xff\xfe"]), max_length=np.int32(0))
    oov = decode(seq2seq_export.model, [[1]], beam_width=3)
    vocabulary = seq2seq_export.vectorizer.get_vocabulary()
    assert [text.decode() for text in out["text"]] == [" ".join(vocabulary[i] for i in oov[0])] * 3
    empty = serve(seq2seq_export, "decode", source=tf.constant([], tf.string), max_length=np.int32(0))
    assert empty["text"].shape == (0,) and empty["scores"].shape == (0,)
    signature = loaded_export(seq2seq_export.path).signatures["decode"]
    for bad in (-1, 1_001):
        with pytest.raises(tf.errors.InvalidArgumentError, match="max_length must be in"):
            signature(source=tf.constant(["great"]), max_length=tf.constant(bad, tf.int32))


def test_metadata_says_which_search_each_signature_runs(seq2seq_export):
    metadata = json.loads((seq2seq_export.path / "metadata.json").read_text())
    assert metadata["kind"] == "encoder_decoder" and metadata["serving_default"] == "decode"
    assert metadata["decoding"] == {"beam_width": 3, "length_penalty": 0.6}
    assert metadata["signatures"]["decode"]["search"] == "beam search, width 3"
    assert metadata["signatures"]["decode_greedy"]["search"] == "greedy"


def test_zoo_predict_decodes_from_the_export_and_the_run_folder(seq2seq_export, capsys):
    from zoo import cli

    for greedy in ([], ["--greedy"]):
        assert cli.main(["predict", str(seq2seq_export.path), *SOURCES[:3], "--json", *greedy]) == 0
        served = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert cli.main(["predict", str(seq2seq_export.run_dir), *SOURCES[:3], "--json", *greedy]) == 0
        in_process = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert [r["output"] for r in served] == [r["output"] for r in in_process]
        np.testing.assert_allclose([r["score"] for r in served], [r["score"] for r in in_process], atol=1e-4)
    # Options between the folder and the texts (argparse alone would stop reading texts there).
    assert cli.main(["predict", str(seq2seq_export.path), "--greedy", "--json", *SOURCES[:3]]) == 0
    assert [json.loads(line)["output"] for line in capsys.readouterr().out.splitlines()] == [r["output"] for r in served]
    assert cli.main(["predict", str(seq2seq_export.path), "great", "--max-length", "-3"]) == 2
    assert "max_length must be in" in capsys.readouterr().err
