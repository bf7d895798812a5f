"""The Brown -> universal (Petrov et al. 2012) tag mapping, on hand-picked tags."""
import pytest

from zoo.data.universal_tagset import (BROWN_BASE_TO_UNIVERSAL, UNIVERSAL_TAGS, brown_base_tag,
                                       brown_to_universal)


def test_twelve_sorted_tags_each_reached_by_the_table():
    assert UNIVERSAL_TAGS == (
        ".", "ADJ", "ADP", "ADV", "CONJ", "DET", "NOUN", "NUM", "PRON", "PRT", "VERB", "X")
    assert tuple(sorted(UNIVERSAL_TAGS)) == UNIVERSAL_TAGS
    assert set(BROWN_BASE_TO_UNIVERSAL.values()) == set(UNIVERSAL_TAGS)


BASES = [
    ("nn-tl", "nn"), ("NN-TL", "nn"), ("at-tl-hl", "at"), ("nn-tl-nc", "nn"), ("---hl", "--"),
    ("(-hl", "("), ("*-nc", "*"), ("ppss+ber-n", "ppss"), ("wdt+ber+pp", "wdt"),
    ("fw-in+at-t", "fw"), ("np$", "np$"), ("--", "--"),
]

UNIVERSAL = [

    ("at", "DET"), ("nn-tl", "NOUN"), ("np$", "NOUN"), ("nps$-tl", "NOUN"), ("pn", "NOUN"),
    ("vbd", "VERB"), ("bedz*", "VERB"), ("md*", "VERB"), ("hvz-nc", "VERB"), ("do+ppss", "VERB"),
    ("jjt", "ADJ"), ("ap", "ADJ"), ("od-tl", "ADJ"), ("jj$-tl", "ADJ"),
    ("rb", "ADV"), ("*", "ADV"), ("ql", "ADV"), ("wrb+bez", "ADV"), ("rb$", "ADV"),
    ("ppss+ber", "PRON"), ("ppo", "PRON"), ("pp$$", "PRON"), ("wps", "PRON"),
    ("pp$", "DET"), ("wp$", "DET"), ("abn", "DET"), ("ex+bez", "DET"), ("dt$", "DET"),
    ("in", "ADP"), ("cs", "ADP"), ("in-tl-hl", "ADP"),
    ("cd", "NUM"), ("cd$", "NUM"), ("cc", "CONJ"), ("to", "PRT"), ("to+vb", "PRT"),
    ("rp", "PRT"), (".", "."), ("``", "."), ("''", "."), (",-hl", "."), ("---hl", "."),
    ("fw-nn", "X"), ("fw-in+at-t", "X"), ("FW-*", "X"), ("uh", "X"), ("nil", "X"),
]


# Tables checked in one test each: the shared conftest clears the Keras session around every
# test, which would make one test per tag slow.
def test_base_tag_strips_suffixes_and_keeps_the_first_part_of_compounds():
    assert {raw: brown_base_tag(raw) for raw, _ in BASES} == dict(BASES)


def test_brown_to_universal():
    assert {raw: brown_to_universal(raw) for raw, _ in UNIVERSAL} == dict(UNIVERSAL)


def test_unknown_tags_raise():
    for raw in ["zz", "", "nn-xx", "+"]:
        with pytest.raises(ValueError, match="unknown Brown tag"):
            brown_to_universal(raw)
