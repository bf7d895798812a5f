"""Attention as a picture (the heatmaps of Bahdanau et al. 2015 and Rocktäschel et al. 2016).

An ESIM pair model's soft alignment: which hypothesis words each premise word attends to
(Chen et al. 2017):

    weights, premise_tokens, hypothesis_tokens = alignment(model, vectorizer, premise, hypothesis)
    alignment_png(weights, premise_tokens, hypothesis_tokens, "attention.png")

An encoder-decoder's attention: which source words the decoder reads while it writes each output
word (its own greedy or beam output, or a given target, teacher-forced):

    weights, output_tokens, source_tokens = decoder_attention(model, vectorizer, source)
    heatmap_png(weights, output_tokens, source_tokens, "attention.png", rows="output", columns="source")
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from zoo.conventions import END_TOKEN, OOV_ID, START_ID


def _check_sentence(name: str, text) -> None:
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"the {name} is empty: give a sentence to align")


def _shown(vectorizer, text: str, ids) -> list[str]:
    """The vectorizer's tokens of `text`, an OOV one marked with a trailing `?`."""
    tokens = [token.decode("utf-8") for token in vectorizer.tokens([text]).to_list()[0]]
    return [token + ("?" if token_id == OOV_ID else "") for token, token_id in zip(tokens, ids)]


def alignment(model, vectorizer, premise: str, hypothesis: str):
    """`(weights (len_p, len_h), premise tokens, hypothesis tokens)` for one pair: row i is premise
    token i's attention over the hypothesis (sums to 1). Tokens are the vectorizer's (lowercased,
    punctuation split); an OOV token is shown with a trailing `?`."""
    from zoo.data.vectorize import vectorize

    _check_sentence("premise", premise)
    _check_sentence("hypothesis", hypothesis)
    ids = {name: vectorize(vectorizer, [text], ragged=False).numpy()
           for name, text in (("premise", premise), ("hypothesis", hypothesis))}
    premise_to_hypothesis, _ = model.attention_weights(ids)
    weights = np.asarray(premise_to_hypothesis)[0]
    return (weights, _shown(vectorizer, premise, ids["premise"][0]),
            _shown(vectorizer, hypothesis, ids["hypothesis"][0]))


def decoder_attention(model, vectorizer, source: str, target: str | None = None, beam_width: int = 1):
    """`(weights (len_output + 1, len_source), output tokens + "[END]", source tokens)`: row t is
    the decoder's attention over the source while it predicts output token t (the last row: the
    end token), each row summing to 1 over the real source tokens.

    The output is the model's own decoding of `source` (greedy, or beam search with
    `beam_width`), or `target` (teacher-forced: the attention the model pays while it is shown
    that sentence). Tokens as the vectorizer makes them; OOV ones end with `?`.
    """
    from zoo.data.vectorize import vectorize
    from zoo.models.encoder_decoder import decode

    _check_sentence("source", source)
    source_ids = vectorize(vectorizer, [source], ragged=False).numpy()
    vocabulary = vectorizer.get_vocabulary()
    if target is None:
        output_ids = decode(model, source_ids, beam_width=beam_width)[0]
        output_tokens = [vocabulary[token] for token in output_ids]
    else:
        _check_sentence("target", target)
        output_ids = vectorize(vectorizer, [target], ragged=False).numpy()[0].tolist()
        output_tokens = _shown(vectorizer, target, output_ids)
    shifted = np.array([[START_ID, *output_ids]], dtype="int32")  # teacher forcing: ends predicting [END]
    weights = np.asarray(model.attention_weights({"source": source_ids, "target": shifted}))[0]
    return weights, output_tokens + [END_TOKEN], _shown(vectorizer, source, source_ids[0])


def alignment_png(weights: np.ndarray, premise_tokens: Sequence[str], hypothesis_tokens: Sequence[str],
                  path: str | Path, title: str = "") -> Path:
    """Writes a pair model's alignment as a PNG heatmap: premise words down the side, hypothesis
    words along the top (`heatmap_png`)."""
    return heatmap_png(weights, premise_tokens, hypothesis_tokens, path, rows="premise",
                       columns="hypothesis", title=title)


def heatmap_png(weights: np.ndarray, row_tokens: Sequence[str], column_tokens: Sequence[str],
                path: str | Path, rows: str, columns: str, title: str = "") -> Path:
    """Writes attention weights as a PNG heatmap: `row_tokens` down the side (labelled `rows`),
    `column_tokens` along the top (`columns`), each cell the weight (0 to 1) printed where the
    picture is small enough to read."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weights = np.asarray(weights)
    if weights.shape != (len(row_tokens), len(column_tokens)):
        raise ValueError(f"weights of shape {weights.shape} for {len(row_tokens)} {rows} and "
                         f"{len(column_tokens)} {columns} tokens")
    figure, axis = plt.subplots(figsize=(1.0 + 0.55 * len(column_tokens), 1.0 + 0.45 * len(row_tokens)))
    image = axis.imshow(weights, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    axis.set_xticks(range(len(column_tokens)), column_tokens, rotation=45, ha="left")
    axis.set_yticks(range(len(row_tokens)), row_tokens)
    axis.xaxis.tick_top()
    axis.set_xlabel(columns)
    axis.set_ylabel(rows)
    if weights.size <= 400:
        for (row, column), value in np.ndenumerate(weights):
            axis.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=7,
                      color="white" if value > 0.6 else "black")
    figure.colorbar(image, ax=axis, fraction=0.04)
    if title:
        figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


__all__ = ["alignment", "alignment_png", "decoder_attention", "heatmap_png"]
