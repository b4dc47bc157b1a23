"""What the words around and inside a name say about it (no model): organisations by what they own, places by
the kind of place named before them, two people in one mention, a person's possession, given names listed with a
person, products by how they are written, and a label read from the context outvoting the model's guesses."""

from __future__ import annotations

from tasks.entities import Dictionary, Mention, resolve_entities
from tasks.mentions import (
    _by_context,
    _people_beside_people,
    _places_after_adjectives,
    _possessed_names,
    _products_by_shape,
    _split_known_pairs,
    common_acronyms,
    name_span,
)
from tests.entity_helpers import found


def _labels(mentions: list[Mention]) -> list[tuple[str, str]]:
    return [(m.text, m.label) for m in mentions]


def test_what_only_an_organisation_has_makes_it_one_and_a_kind_of_place_makes_a_place() -> None:
    text = "Orders go through Green Throttle's website; the atoll of Nikumaroro lies east; Ann Roe's shares rose."
    mentions = _by_context(text, found(text, ("Green Throttle", "PERSON"), ("Nikumaroro", "ORG")))
    assert _labels(mentions) == [("Green Throttle", "ORG"), ("Nikumaroro", "GPE")]
    assert all(m.cued for m in mentions)
    text = "Paris's mayor and Sarah Roe's website"  # a place keeps its label; a person's own site says nothing
    assert _labels(_by_context(text, found(text, ("Paris", "GPE"), ("Sarah Roe", "PERSON")))) == [
        ("Paris", "GPE"),
        ("Sarah Roe", "PERSON"),
    ]


def test_a_label_read_from_the_context_outvotes_the_model_in_the_article() -> None:
    text = "Green Throttle made it. Green Throttle ships soon. Visit Green Throttle's website."
    starts = [i for i in range(len(text)) if text.startswith("Green Throttle", i)]
    mentions = [Mention("Green Throttle", "PERSON", s, s + 14, n, "Green Throttle") for n, s in enumerate(starts)]
    mentions[2].label, mentions[2].cued = "ORG", True
    assert {e.label for e in resolve_entities(mentions, text)} == {"ORG"}


def test_two_people_in_one_mention_are_cut_in_two_but_one_company_stays_whole() -> None:
    text = "Posted by Courtney Pannell & Divya Vishwanath, and Johnson & Johnson"
    mentions = _split_known_pairs(
        found(text, ("Courtney Pannell & Divya Vishwanath", "ORG"), ("Johnson & Johnson", "ORG"))
    )
    assert _labels(mentions) == [
        ("Courtney Pannell", "PERSON"),
        ("Divya Vishwanath", "PERSON"),
        ("Johnson & Johnson", "ORG"),
    ]


def test_a_persons_possession_is_cut_from_the_person() -> None:
    text = "the review at Maggie Mahar’s Health Beat and at Acme Co’s Labs"
    mentions = _possessed_names(found(text, ("Maggie Mahar’s Health Beat", "PERSON"), ("Acme Co’s Labs", "ORG")))
    assert _labels(mentions) == [("Maggie Mahar", "PERSON"), ("Health Beat", "ORG"), ("Acme Co’s Labs", "ORG")]
    assert mentions[1].start == text.index("Health Beat")


def test_a_given_name_listed_with_a_person_is_a_person_but_a_place_is_not() -> None:
    text = "Tell Sasha and Malia hello; Sasha and Paris too."
    mentions = found(text, ("Sasha", "PERSON"), ("Malia", "GPE"))
    second = text.index("Sasha and Paris")
    mentions += [Mention("Sasha", "PERSON", second, second + 5, 0, "Sasha")]
    mentions += found(text, ("Paris", "GPE"))
    _people_beside_people(text, mentions)
    assert [m.label for m in mentions] == ["PERSON", "PERSON", "PERSON", "GPE"]


def test_names_written_as_products_are_products() -> None:
    text = "vSphere runs on Google Apps Script, and Google News reports it."
    mentions = found(text, ("vSphere", "ORG"), ("Google Apps Script", "LOC"), ("Google News", "ORG"))
    _products_by_shape(mentions)
    assert [m.label for m in mentions] == ["PRODUCT", "PRODUCT", "ORG"]


def test_a_persons_name_ends_at_a_spaced_dash_and_common_acronyms_are_no_names() -> None:
    text = "Written By: Jason Shafrin - Oct 28"
    start = text.index("Jason")
    assert text[slice(*name_span(text, start, len(text), "PERSON"))] == "Jason Shafrin"
    assert {"RSS", "EHR", "HIV", "IT"} <= common_acronyms()


def test_a_place_after_common_words_is_the_place_but_a_named_person_stays() -> None:
    text = "Mountainous Nepal reopens. Mr Chad Jordan and Joan Chad met."
    mentions = found(text, ("Mountainous Nepal", "PERSON"), ("Chad Jordan", "PERSON"), ("Joan Chad", "PERSON"))
    _places_after_adjectives(text, mentions, Dictionary(words=frozenset({"mountainous", "chad", "joan"})))
    assert [(m.text, m.canonical, m.label) for m in mentions] == [
        ("Nepal", "Nepal", "GPE"),
        ("Chad Jordan", "Chad Jordan", "PERSON"),
        ("Joan Chad", "Joan Chad", "PERSON"),
    ]
    assert text[mentions[0].start : mentions[0].end] == "Nepal"


def test_a_name_never_runs_over_a_line_break() -> None:
    import spacy
    from spacy.tokens import Span

    from tasks.mentions import entities_from_doc

    doc = spacy.blank("en")("Crowds filled the US Open\n\nFLUSHING MEADOWS on the first day of play.")
    start = next(t.i for t in doc if t.text == "US")
    end = next(t.i for t in doc if t.text == "MEADOWS") + 1
    doc.ents = [Span(doc, start, end, label="EVENT")]
    assert [(e.text, e.label) for e in entities_from_doc(doc)] == [("US Open", "EVENT")]


def test_a_name_ends_at_a_headings_colon() -> None:
    import spacy
    from spacy.tokens import Span

    from tasks.mentions import entities_from_doc

    doc = spacy.blank("en")("Northwind Traders: Features and fees of the service, compared with its rivals.")
    doc.ents = [Span(doc, 0, 4, label="ORG")]
    assert [(e.text, e.label) for e in entities_from_doc(doc)] == [("Northwind Traders", "ORG")]
