"""Names in lines written in title case, read with the model's English word list (no model run): runs of common
words the model took for names are dropped, a person's name ends before the headline's verb, and prose or lines
of names are left alone. Also the given name the model did not know, the words a family calls its members and
the people of an organisation before its name."""

from __future__ import annotations

from tasks.entities import Mention
from tasks.mentions import _by_context, _unknown_first_names, given_names
from tasks.nlp import load_dictionary
from tasks.title_lines import drop_common_phrases, is_title_line, trim_trailing_verbs
from tests.entity_helpers import found


def test_common_words_in_a_title_line_are_no_names_but_known_shapes_stay() -> None:
    words = load_dictionary("en_core_web_sm")
    text = "Lemon and Thyme Roasted Carrots with Crispy Shallots Recipe"
    names = found(text, ("Thyme Roasted Carrots", "PERSON"), ("Crispy Shallots", "ORG"))
    assert drop_common_phrases(text, names, words, given_names()) == []
    text = "Rose Byrne and the Supreme Court Ruling Shocks Fans"
    names = found(text, ("Rose Byrne", "PERSON"), ("Supreme Court", "ORG"))
    assert [m.text for m in drop_common_phrases(text, names, words, given_names())] == ["Rose Byrne", "Supreme Court"]


def test_prose_and_lines_of_names_are_no_title_lines() -> None:
    words = load_dictionary("en_core_web_sm")
    text = "U.S. President Bill Clinton met Chancellor Helmut Kohl, a White House spokesman said."
    names = [(m.start, m.end) for m in found(text, ("Bill Clinton", "PERSON"), ("Helmut Kohl", "PERSON"))]
    assert not is_title_line(text, 0, names, words)
    text = "Crystal Palace 2 Leeds United 1"
    names = [(m.start, m.end) for m in found(text, ("Crystal Palace", "ORG"), ("Leeds United", "ORG"))]
    assert not is_title_line(text, 0, names, words)
    assert is_title_line("Ten Quick Dinners for Busy Weeknights", 0, [], words)


def test_a_persons_name_ends_before_the_headlines_verb() -> None:
    text = "Emma Stone, Ryan Reynolds Spotted at Venice Premiere"
    names = found(text, ("Emma Stone", "PERSON"), ("Ryan Reynolds Spotted", "PERSON"))
    trim_trailing_verbs(text, names, load_dictionary("en_core_web_sm"))
    assert [m.text for m in names] == ["Emma Stone", "Ryan Reynolds"]


def test_an_unknown_given_name_opens_the_persons_name_but_a_common_word_does_not() -> None:
    words = load_dictionary("en_core_web_sm")
    text = "Zendaya Coleman spoke first. Then Coleman left, and Yesterday Coleman was back."
    names = found(text, ("Coleman", "PERSON"))
    later = text.index("Coleman left")
    names.append(Mention("Coleman", "PERSON", later, later + 7, 0, "Coleman"))
    _unknown_first_names(text, names, words)
    assert [m.text for m in names] == ["Zendaya Coleman", "Coleman"]


def test_the_people_of_an_organisation_before_its_name_make_it_one() -> None:
    text = "Thanks to everyone at Sherwin Porter for the paint."
    [m] = _by_context(text, found(text, ("Sherwin Porter", "PERSON")))
    assert (m.label, m.cued) == ("ORG", True)
    text = "Thanks to everyone at Lisbon for the welcome."
    [place] = _by_context(text, found(text, ("Lisbon", "GPE")))
    assert (place.label, place.cued) == ("GPE", False)
