"""Sentence compression / paraphrase: source sentence -> target sentence with an encoder-decoder
(SNLI's entailment pairs by default: a premise -> a shorter sentence it entails)."""
from __future__ import annotations

import dataclasses

from zoo.conventions import END_TOKEN, START_TOKEN
from zoo.models.config import EncoderDecoderConfig, JSONConfig, _check_types, _fail
from zoo.tasks.base import Task, WordTask


@dataclasses.dataclass(frozen=True)
class DecodingSettings(JSONConfig):
    """How a finished encoder-decoder run decodes its test split (a recipe's `SETTINGS`).

    Args:
        beam_width: the beam search's width (greedy search is always reported beside it).
        length_penalty: alpha of GNMT's length normalisation of the final beam scores (0: none).
        max_length: target tokens at most, end token included; 0: twice the source plus 10.
        examples: how many test sources, with their reference and both decodings, go into
            `metrics.json`.
    """

    beam_width: int = 4
    length_penalty: float = 0.6
    max_length: int = 0
    examples: int = 8

    def __post_init__(self):
        _check_types(self)
        owner = "DecodingSettings"
        if self.beam_width < 1:
            _fail(owner, "beam_width", self.beam_width, "a positive integer")
        if self.length_penalty < 0:
            _fail(owner, "length_penalty", self.length_penalty, ">= 0")
        if self.max_length < 0:
            _fail(owner, "max_length", self.max_length, "0 (twice the source plus 10) or a positive integer")
        if self.examples < 0:
            _fail(owner, "examples", self.examples, "0 or more")


class CompressTask(WordTask):
    """Sequence to sequence on words: `(source, target)` examples, one word vectorizer for both
    sides (its ids 2 and 3 the start and end tokens), GloVe rows for it, an encoder-decoder.
    After training, the test split is decoded by greedy and beam search and scored with
    sacrebleu's BLEU and chrF against the targets, beside copying the source."""

    name = "compress"
    factory = "encoder_decoder"
    config_class = EncoderDecoderConfig
    settings_class = DecodingSettings
    data_kind = "sequence_to_sequence"
    objective = ("val_loss", "min")
    search_space = {"units": (64, 128, 256), "batch_size": (32, 64, 128)}
    dataset_function = "sequence_to_sequence_dataset"
    leading_tokens = (START_TOKEN, END_TOKEN)

    @staticmethod
    def texts(examples) -> list[str]:
        return [text for source, target in examples for text in (source, target)]

    def sizes_from_data(self, data, vectorizer) -> dict:
        return {"vocabulary_size": len(vectorizer.get_vocabulary())}  # the classes are the vocabulary

    def after_evaluation(self, prepared, model, metrics):
        Task.after_evaluation(self, prepared, model, metrics)  # not WordTask's classification report
        metrics["test_generation"] = generation_report(model, prepared.data.test, prepared.vectorizer,
                                                       prepared.settings)


def generation_report(model, examples, vectorizer, settings: DecodingSettings) -> dict:
    """Decodes the sources of `(source, target)` examples (greedy and beam search) and scores them.

    Examples that share a source are one item with several references (SNLI has up to five
    entailed hypotheses per premise, all correct outputs): each distinct source is decoded once
    and scored against all its targets (sacrebleu's multi-reference BLEU and chrF, corpus level).
    The scores compare the zoo's tokens: the references go through the run's own tokenizer
    (lowercased, punctuation split off, as the model reads and writes), so they measure the
    model, not a detokenizer. "copy_source" scores the source itself as the output, the baseline
    a model must beat.
    """
    import sacrebleu

    from zoo.models.encoder_decoder import decode

    def as_tokens(texts):  # each text as the model reads it, tokens joined by spaces
        return [" ".join(token.decode("utf-8") for token in row) for row in vectorizer.tokens(texts).to_list()]

    targets_of: dict[str, list[str]] = {}
    for source, target in examples:  # first-seen order of the sources
        targets_of.setdefault(source, []).append(target)
    sources = list(targets_of)
    tokenized = {source: as_tokens(targets) for source, targets in targets_of.items()}
    most = max(len(targets) for targets in targets_of.values())
    # sacrebleu's reference streams: stream k holds each source's k-th reference, or None.
    streams = [[tokenized[source][k] if k < len(tokenized[source]) else None for source in sources]
               for k in range(most)]
    max_length = settings.max_length or None
    outputs = {"greedy": decode(model, sources, vectorizer, beam_width=1, max_length=max_length)}
    if settings.beam_width > 1:
        outputs[f"beam_{settings.beam_width}"] = decode(
            model, sources, vectorizer, beam_width=settings.beam_width, max_length=max_length,
            length_penalty=settings.length_penalty)
    outputs["copy_source"] = as_tokens(sources)

    # force: the zoo's tokens are tokenized on purpose (sacrebleu warns about tokenized periods).
    bleu, chrf = sacrebleu.BLEU(tokenize="none", force=True), sacrebleu.CHRF()

    def scores(hypotheses):
        words = sum(len(text.split()) for text in hypotheses) / max(1, len(hypotheses))
        return {"bleu": round(bleu.corpus_score(hypotheses, streams).score, 2),
                "chrf": round(chrf.corpus_score(hypotheses, streams).score, 2),
                "words_per_output": round(words, 2)}

    report = {name: scores(hypotheses) for name, hypotheses in outputs.items()}
    report["signatures"] = {"bleu": str(bleu.get_signature()), "chrf": str(chrf.get_signature())}
    references = [reference for source in sources for reference in tokenized[source]]
    report["sources"], report["references"] = len(sources), len(references)
    report["reference_words_per_sentence"] = round(sum(len(r.split()) for r in references) / max(1, len(references)), 2)
    report["beam_width"], report["length_penalty"] = settings.beam_width, settings.length_penalty
    report["examples"] = [
        {"source": sources[index], "references": targets_of[sources[index]],
         **{name: outputs[name][index] for name in outputs if name != "copy_source"}}
        for index in range(min(settings.examples, len(sources)))]
    return report


__all__ = ["CompressTask", "DecodingSettings", "generation_report"]
