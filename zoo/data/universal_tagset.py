"""Map Brown corpus tags to the 12-tag universal tagset of Petrov, Das & McDonald (2012).

The universal tags: NOUN, VERB, ADJ, ADV, PRON, DET, ADP, NUM, CONJ, PRT, `.` (punctuation) and
X (foreign words, typos, abbreviations, interjections, other).

## The Brown mapping

A raw Brown tag (`nn-tl`, `fw-in+at`, `ppss+ber-n`, `np$`; upper or lower case) is reduced to a
base tag, and the base tag is looked up in `BROWN_BASE_TO_UNIVERSAL`:

1. a leading `fw-` (foreign word) maps the token to `X`, whatever follows;
2. a compound tag (`ppss+ber`, "we're") keeps its first part (`ppss` -> PRON);
3. the suffixes `-tl` (title), `-hl` (headline) and `-nc` (cited word) are removed, repeatedly
   (`at-tl-hl` -> `at`, `---hl` -> `--`);
4. a base tag that is not in the table but ends in `$` (a possessive form such as `cd$`, `jj$`)
   is looked up without the `$`.

The table follows the en-brown mapping of Petrov et al. (2012) as far as we could reconstruct it:
punctuation tags -> `.`; the negator `*` ("not") and the qualifiers (`abl`, `ql`, `qlp`) ->
ADV; pre-quantifiers (`abn`, `abx`), articles, determiners, `ex` ("there"), `wdt` and the
possessive determiners `pp$` (my, his) and `wp$` (whose) -> DET; the post-determiner `ap` (many,
next, last) and ordinals `od` -> ADJ; nominal pronouns `pn` (everybody, nothing) -> NOUN;
subordinating conjunctions `cs` and prepositions `in` -> ADP; `to` and particles `rp` -> PRT;
every form of be/do/have, modals `md` and verbs `vb*` -> VERB; interjections `uh` and `nil` -> X.
The original `en-brown.map` file was not at hand to compare entry by entry; the test suite checks
that all 472 raw tags of the Brown corpus map to one of the 12 tags.

References:
    Slav Petrov, Dipanjan Das, Ryan McDonald. A Universal Part-of-Speech Tagset. LREC 2012.
"""
from __future__ import annotations

UNIVERSAL_TAGS: tuple[str, ...] = (
    ".", "ADJ", "ADP", "ADV", "CONJ", "DET", "NOUN", "NUM", "PRON", "PRT", "VERB", "X")

_GROUPS: dict[str, tuple[str, ...]] = {
    ".": ("'", "''", "(", ")", ",", "--", ".", ":", "``"),
    "ADJ": ("ap", "jj", "jjr", "jjs", "jjt", "od"),
    "ADP": ("cs", "in"),
    "ADV": ("*", "abl", "ql", "qlp", "rb", "rbr", "rbt", "rn", "wql", "wrb"),
    "CONJ": ("cc",),
    "DET": ("abn", "abx", "at", "dt", "dti", "dts", "dtx", "ex", "pp$", "wdt", "wp$"),
    "NOUN": ("nn", "nn$", "nns", "nns$", "np", "np$", "nps", "nps$", "nr", "nr$", "nrs", "pn",
             "pn$"),
    "NUM": ("cd",),
    "PRON": ("pp$$", "ppl", "ppls", "ppo", "pps", "ppss", "wpo", "wps"),
    "PRT": ("rp", "to"),
    "VERB": ("be", "bed", "bed*", "bedz", "bedz*", "beg", "bem", "bem*", "ben", "ber", "ber*",
             "bez", "bez*", "do", "do*", "dod", "dod*", "doz", "doz*", "hv", "hv*", "hvd",
             "hvd*", "hvg", "hvn", "hvz", "hvz*", "md", "md*", "vb", "vbd", "vbg", "vbn", "vbz"),
    "X": ("nil", "uh"),
}

BROWN_BASE_TO_UNIVERSAL: dict[str, str] = {
    base: universal for universal, bases in _GROUPS.items() for base in bases}

_SUFFIXES = ("-tl", "-hl", "-nc")


def brown_base_tag(tag: str) -> str:
    """Reduce a raw Brown tag to its base tag (`"NN-TL"` -> `"nn"`, `"fw-in+at"` -> `"fw"`).

    Foreign words come back as `"fw"`; compound tags keep their first part; the `-tl`, `-hl`
    and `-nc` suffixes are removed.
    """
    tag = tag.strip().lower()
    if tag.startswith("fw-"):
        return "fw"
    tag = tag.split("+", 1)[0]
    stripped = True
    while stripped:
        stripped = False
        for suffix in _SUFFIXES:
            if tag.endswith(suffix) and len(tag) > len(suffix):
                tag = tag[: -len(suffix)]
                stripped = True
    return tag


def brown_to_universal(tag: str) -> str:
    """Map one raw Brown tag to its universal tag.

    Raises:
        ValueError: the tag is not a Brown tag this mapping knows.

    Examples:
        >>> brown_to_universal("np-tl"), brown_to_universal("ppss+ber"), brown_to_universal("FW-NN")
        ('NOUN', 'PRON', 'X')
    """
    base = brown_base_tag(tag)
    if base == "fw":
        return "X"
    universal = BROWN_BASE_TO_UNIVERSAL.get(base)
    if universal is None and base.endswith("$"):
        universal = BROWN_BASE_TO_UNIVERSAL.get(base[:-1])
    if universal is None:
        raise ValueError(f"unknown Brown tag {tag!r} (base {base!r})")
    return universal
