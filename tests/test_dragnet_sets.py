"""The Dragnet pointer sets: sentences are cut where a reader would cut them, and pointers give back the text."""

from __future__ import annotations

import pytest

from bench import dragnet_sets


def _sentences(article: str) -> list[str]:
    return [article[o : o + n] for o, n in dragnet_sets.split_sentences(article)]


def test_sentences_split_at_stops_and_lines_but_not_after_abbreviations() -> None:
    article = (
        "Mr. Smith met Dr. Jones in the U.S. capital. They talked for 3 hours!\r\n\r\n"
        '  "It went well." Both left on Jan. 5 at noon.\r\n'
        "A line without a stop"
    )
    assert _sentences(article) == [
        "Mr. Smith met Dr. Jones in the U.S. capital.",
        "They talked for 3 hours!",
        '"It went well."',
        "Both left on Jan. 5 at noon.",
        "A line without a stop",
    ]


def test_a_candidate_holds_a_digit_or_a_number_word_but_not_one() -> None:
    assert dragnet_sets.is_candidate("Sales rose 5 per cent.")
    assert dragnet_sets.is_candidate("Two thirds of voters agreed.")
    assert not dragnet_sets.is_candidate("One of them left early.")


def test_pointer_rows_get_their_text_and_objects_back(monkeypatch: pytest.MonkeyPatch) -> None:
    article = "Headline\r\nExports rose 5% to $10 billion. Then they fell."
    monkeypatch.setattr(dragnet_sets, "articles", lambda: {"7": article})
    offset = article.index("Exports")
    row = {
        "id": "x-1",
        "source": {"dragnet_page": "7", "char_offset": offset, "length": 31},
        "mentions": [
            {"start": 13, "end": 15, "kind": "percent", "object_span": [0, 7]},
            {"start": 19, "end": 30, "kind": "money", "object_span": None},
        ],
    }
    (resolved,) = dragnet_sets.resolve_rows([row])
    assert resolved["text"] == "Exports rose 5% to $10 billion."
    assert [(m["text"], m["object"]) for m in resolved["mentions"]] == [("5%", "Exports"), ("$10 billion", None)]
    assert dragnet_sets.sentence_text({"text": "as written"}) == "as written"


def test_a_later_draw_never_takes_a_page_of_an_earlier_one(monkeypatch: pytest.MonkeyPatch) -> None:
    pages = {
        str(i): f"Line {i} has 3 figures in it today.\nSales rose {i} per cent in the year to June." for i in range(12)
    }
    monkeypatch.setattr(dragnet_sets, "articles", lambda: pages)
    monkeypatch.setattr(dragnet_sets, "page_url", lambda _page: None)
    draws = (("a", "figures", 1, 6), ("b", "entities", 2, 6), ("c", "figures", 3, 6))
    monkeypatch.setattr(dragnet_sets, "DRAWS", draws)
    taken = [{r["page"] for r in dragnet_sets.draw_set(name)} for name, *_ in draws]
    assert all(taken)
    assert not taken[0] & taken[1] and not taken[2] & (taken[0] | taken[1])
    assert dragnet_sets.draw_set("a") == dragnet_sets.draw(1, 6)
    with pytest.raises(KeyError):
        dragnet_sets.draw_set("missing")
