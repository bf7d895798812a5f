"""The soft alignment of an ESIM pair model as a picture: which hypothesis words each premise
word attends to (Chen et al. 2017; the heatmaps of Rocktäschel et al. 2016).

    weights, premise_tokens, hypothesis_tokens = alignment(model, vectorizer, premise, hypothesis)
    alignment_png(weights, premise_tokens, hypothesis_tokens, "attention.png")
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from zoo.conventions import OOV_ID


def alignment(model, vectorizer, premise: str, hypothesis: str):
    """`(weights (len_p, len_h), premise tokens, hypothesis tokens)` for one pair: row i is premise
    token i's attention over the hypothesis (sums to 1). Tokens are the vectorizer's (lowercased,
    punctuation split); an OOV token is shown with a trailing `?`."""
    from zoo.data.vectorize import vectorize

    for name, text in (("premise", premise), ("hypothesis", hypothesis)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"the {name} is empty: give a sentence to align")
    ids = {name: vectorize(vectorizer, [text], ragged=False).numpy()
           for name, text in (("premise", premise), ("hypothesis", hypothesis))}
    premise_to_hypothesis, _ = model.attention_weights(ids)
    weights = np.asarray(premise_to_hypothesis)[0]

    def shown(text, row):
        tokens = [token.decode("utf-8") for token in vectorizer.tokens([text]).to_list()[0]]
        return [token + ("?" if token_id == OOV_ID else "") for token, token_id in zip(tokens, row)]

    return weights, shown(premise, ids["premise"][0]), shown(hypothesis, ids["hypothesis"][0])


def alignment_png(weights: np.ndarray, premise_tokens: Sequence[str], hypothesis_tokens: Sequence[str],
                  path: str | Path, title: str = "") -> Path:
    """Writes the alignment as a PNG heatmap: premise words down the side, hypothesis words along
    the top, each cell the weight (0 to 1) printed where the picture is small enough to read."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weights = np.asarray(weights)
    if weights.shape != (len(premise_tokens), len(hypothesis_tokens)):
        raise ValueError(f"weights of shape {weights.shape} for {len(premise_tokens)} premise and "
                         f"{len(hypothesis_tokens)} hypothesis tokens")
    figure, axis = plt.subplots(figsize=(1.0 + 0.55 * len(hypothesis_tokens), 1.0 + 0.45 * len(premise_tokens)))
    image = axis.imshow(weights, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    axis.set_xticks(range(len(hypothesis_tokens)), hypothesis_tokens, rotation=45, ha="left")
    axis.set_yticks(range(len(premise_tokens)), premise_tokens)
    axis.xaxis.tick_top()
    axis.set_xlabel("hypothesis")
    axis.set_ylabel("premise")
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


__all__ = ["alignment", "alignment_png"]
