"""Tests for matching watch queries against articles (tasks/watch/match.py): words, phrases, prefixes, NEAR, NOT,
fields, entities through the alias table, figure conditions, the evidence a match reports, and the same inputs
(and matches) from records at ingest and from lake rows in a backfill."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from tasks.entities import entity_id_of, entity_key
from tasks.records import Article, Entity, Figure
from tasks.rows import articles_table, entities_table, figures_table
from tasks.watch.match import (
    MAX_EVIDENCE_CHARS,
    EntityRef,
    FigureRef,
    Match,
    MatchInput,
    entity_candidate_keys,
    inputs_from_records,
    inputs_from_tables,
    match,
    prepare,
    split_sentences,
    word_tokens,
)
from tasks.watch.query import parse_query

FETCHED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def article(
    text: str,
    title: str | None = None,
    article_id: str = "a1",
    url: str | None = "https://www.reuters.com/world/a1",
    language: str | None = "en",
    source: str = "reuters",
) -> Article:
    return Article(
        article_id=article_id,
        item_key=article_id,
        source_uri="test",
        source=source,
        text=text,
        content_hash=article_id,
        fetched_at=FETCHED,
        published_at=FETCHED,
        title=title,
        url=url,
        language=language,
    )


def entity(text: str, label: str, art: Article, canonical: str | None = None, nth: int = 0) -> Entity:
    """An entity mention at the ``nth`` occurrence of ``text`` in the article's text, id as the NLP stage gives it."""
    start = -1
    for _ in range(nth + 1):
        start = art.text.index(text, start + 1)
    canon = canonical or text
    return Entity(text, label, canon, entity_id_of(entity_key(label, canon)), start, start + len(text))


def figure(art: Article, text: str, kind: str, **fields: object) -> Figure:
    start = art.text.index(text)
    return Figure(text=text, kind=kind, start_char=start, end_char=start + len(text), **fields)  # type: ignore[arg-type]


def run(
    query: str, art: Article, entities: list[Entity] | None = None, figures: list[Figure] | None = None
) -> Match | None:
    return match(parse_query(query), prepare(inputs_from_records(art, entities or [], figures or [])))


def matches(
    query: str, art: Article, entities: list[Entity] | None = None, figures: list[Figure] | None = None
) -> bool:
    return run(query, art, entities, figures) is not None


TRADE = article(
    "BEIJING (Reuters) - Mr. Li said on Monday the U.S. would answer. China announced new export controls on rare "
    "earths and gallium, and Washington called the curbs unfair.\n"
    "The European Union said anti-dumping duties worth 2.5 billion euros on Chinese steel would follow.",
    title="China tightens rare-earth exports",
)

# ------------------------------------------------------------------------------------------------ tokens


def test_tokens_fold_case_and_width() -> None:
    assert word_tokens("U.S. Rare-Earth ＴＡＲＩＦＦＳ Straße Ｃafé") == [
        "u",
        "s",
        "rare",
        "earth",
        "tariffs",
        "strasse",
        "café",
    ]
    art = article("Die Straße nach Köln. Neue ＺÖＬＬＥ.")
    assert matches("STRASSE AND köln AND zölle", art)
    assert matches('"u.s. tariffs"', article("New U.S. tariffs came."))


# ------------------------------------------------------------------------------------------------ words, phrases


def test_words_are_whole_tokens_and_prefixes_are_explicit() -> None:
    assert matches("gallium", TRADE)
    assert not matches("galli", TRADE)
    assert matches("galli*", TRADE)
    assert matches("dump*", TRADE)  # "anti-dumping" is two tokens
    assert not matches("curbing*", TRADE)
    assert matches("u.s.", TRADE)  # several tokens in a row
    assert not matches("s.u.", TRADE)


def test_phrases_are_consecutive_and_never_cross_title_and_text() -> None:
    assert matches('"rare earths"', TRADE)
    assert matches('"rare earth exports"', TRADE)  # the title, hyphen or not
    assert matches('"export controls on rare earths"', TRADE)
    assert not matches('"rare gallium"', TRADE)
    assert not matches('"earths gallium"', TRADE)  # a comma in between is no token: "earths and gallium"
    crossing = article("Exports rose.", title="Rare earths")
    assert matches('"rare earths"', crossing)
    assert not matches('"earths exports"', crossing)


def test_near_counts_tokens_either_way_within_one_field() -> None:
    # "export controls on rare earths": export(0) controls(1) on(2) rare(3) earths(4)
    assert matches('export NEAR/3 "rare earths"', TRADE)
    assert not matches('export NEAR/2 "rare earths"', TRADE)
    assert matches('"rare earths" NEAR/3 export', TRADE)  # the order does not matter
    assert matches("controls NEAR/1 export", TRADE)
    assert matches("curb* NEAR/4 washington", TRADE)
    title_and_text = article("Exports of rare earths rose.", title="Gallium news")
    assert not matches("gallium NEAR/5 exports", title_and_text)  # 2 tokens apart, but in different fields
    assert matches("gallium NEAR/1 news", title_and_text)


def test_not_and_or() -> None:
    assert matches("gallium AND NOT football", TRADE)
    assert not matches("gallium AND NOT washington", TRADE)
    assert matches("football OR gallium", TRADE)
    assert not matches("football OR cricket", TRADE)
    assert matches("gallium NOT (football OR washington NEAR/1 called)", article("Gallium. Washington then called."))
    assert not matches("gallium NOT (football OR washington NEAR/1 called)", TRADE)


# ------------------------------------------------------------------------------------------------ fields


def test_title_field_looks_at_the_title_only() -> None:
    assert matches("title:tightens", TRADE)
    assert not matches("title:gallium", TRADE)
    assert matches('title:"rare earth"', TRADE)
    assert matches("title:export*", TRADE)
    assert not matches("title:x", article("x y z"))  # no title at all


def test_outlet_language_and_source() -> None:
    uk = article("Steel.", url="https://uk.reuters.com/business/x")
    assert inputs_from_records(uk, [], []).outlet == "reuters.com"
    assert matches("outlet:reuters.com AND steel", uk)
    assert matches("outlet:uk.reuters.com", uk)  # the query's subdomain is its outlet too
    assert not matches("outlet:apnews.com", uk)
    sub = prepare(MatchInput("s", None, "Steel.", "pt-br", "x", "foo.blogspot.com"))
    assert match(parse_query("outlet:blogspot.com"), sub) is not None  # a subdomain matches its domain
    assert match(parse_query("lang:pt"), sub) is not None
    assert match(parse_query("lang:pt-br"), sub) is not None
    assert match(parse_query("lang:en"), sub) is None
    assert matches("lang:en", TRADE) and not matches("language:de", TRADE)
    assert matches("source:Reuters", TRADE) and not matches("source:afp", TRADE)
    assert not matches("lang:en", article("Steel.", language=None))


# ------------------------------------------------------------------------------------------------ entities


def test_entity_terms_go_through_the_alias_table() -> None:
    ents = [entity("U.S.", "GPE", TRADE), entity("China", "GPE", TRADE), entity("European Union", "ORG", TRADE)]
    assert ents[0].entity_id == entity_id_of("GPE:united states")
    for spelling in ("U.S.", "US", "USA", "America", "america", "United States of America", "the United States"):
        assert matches(f'entity:"{spelling}"', TRADE, ents), spelling
    assert matches('entity.GPE:"U.S."', TRADE, ents)
    assert not matches('entity.ORG:"U.S."', TRADE, ents)  # the United States is a GPE
    assert matches('entity:"EU" AND entity.ORG:"E.U."', TRADE, ents)
    assert not matches('entity:"Japan"', TRADE, ents)
    assert not matches('entity:"China"', TRADE)  # the word is there, but no entity was found
    assert matches(f"entity_id:{entity_id_of('GPE:china')}", TRADE, ents)
    assert not matches(f"entity_id:{entity_id_of('GPE:japan')}", TRADE, ents)


def test_entity_person_is_not_the_country() -> None:
    art = article("Jordan scored 30 points.")
    person = [entity("Jordan", "PERSON", art)]
    country = [entity("Jordan", "GPE", art)]
    assert matches('entity.PERSON:"Jordan"', art, person)
    assert not matches('entity.GPE:"Jordan"', art, person)
    assert matches('entity:"Jordan"', art, person) and matches('entity:"Jordan"', art, country)
    assert not matches('entity.PERSON:"Jordan"', art, country)


def test_entity_keys_are_resolved_once_per_name() -> None:
    entity_candidate_keys.cache_clear()
    q = parse_query('entity:"U.S." AND steel')
    for n in range(3):
        match(q, prepare(inputs_from_records(article("Steel from the U.S.", article_id=f"x{n}"), [], [])))
    assert entity_candidate_keys.cache_info().misses == 1
    assert "GPE:united states" in entity_candidate_keys("U.S.")


# ------------------------------------------------------------------------------------------------ figures

PRICES = article(
    "The EU imposed duties of €2.5 billion on steel. Tariffs on aluminium rose about 25%. "
    "Imports fell to 300,000 tonnes. A fund of $40 million was set up.",
)


def price_figures() -> list[Figure]:
    return [
        figure(
            PRICES, "€2.5 billion", "money", value=2.5e9, unit="EUR", object="duties on steel", currency_source="symbol"
        ),
        figure(
            PRICES, "about 25%", "percent", value=25.0, unit="percent", object="tariffs on aluminium", approximate=True
        ),
        figure(PRICES, "300,000 tonnes", "quantity", value=3e5, unit="tonne", object="imports"),
        figure(PRICES, "$40 million", "money", value=4e7, unit="USD", object="fund", currency_source="outlet_country"),
    ]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("kind = money AND value >= 1bn", "€2.5 billion"),
        ("kind = money AND value >= 2.6bn", None),
        ("kind = money AND value < 100m", "$40 million"),
        ("unit in (USD, GBP)", "$40 million"),
        ("unit in (eur) AND object ~ steel", "€2.5 billion"),
        ('object ~ "duties on steel"', "€2.5 billion"),
        ("object ~ (aluminium OR copper) AND approximate = true", "about 25%"),
        ("kind = percent AND approximate = false", None),
        ("object ~ tarif*", "about 25%"),
        ("object ~ NOT steel AND kind = money", "$40 million"),
        ("kind = quantity AND unit = tonne AND value in (300k, 1m)", "300,000 tonnes"),
        ("currency_source = outlet_country", "$40 million"),
        ("currency_source != symbol", "$40 million"),  # a missing currency_source satisfies no comparison
        ("low >= 0", None),  # no figure has a low bound
        ("NOT kind = money AND NOT kind = percent", "300,000 tonnes"),
        ("sentence ~ fund", None),  # these figures carry no sentence
        ("in_table = true", None),
    ],
)
def test_figure_conditions(condition: str, expected: str | None) -> None:
    found = run(f"figure({condition})", PRICES, figures=price_figures())
    if expected is None:
        assert found is None
    else:
        assert found is not None and found.figure is not None
        assert found.figure.text == expected
        assert found.evidence_kind == "figure"


def test_one_figure_must_satisfy_every_condition() -> None:
    # a money figure of EUR exists and a figure over 1e8 of USD would need the same figure to be both
    assert not matches("figure(unit = usd AND value >= 1bn)", PRICES, figures=price_figures())
    assert matches("figure(unit = usd) AND figure(value >= 1bn)", PRICES, figures=price_figures())


def test_figure_sentence_is_the_evidence_when_no_word_matched() -> None:
    figs = [
        figure(
            PRICES,
            "€2.5 billion",
            "money",
            value=2.5e9,
            unit="EUR",
            sentence="The EU imposed duties of €2.5 billion on steel.",
        ),
    ]
    found = run("figure(kind = money AND value >= 1bn)", PRICES, figures=figs)
    assert found == Match(
        ("figure(kind = money AND value >= 1000000000)",),
        "The EU imposed duties of €2.5 billion on steel.",
        "figure",
        found.figure if found else None,
    )
    # with a word in the text too, the figure counts in its sentence of the text like the word: one term each, the
    # earlier sentence wins
    found = run("figure(kind = money) AND imports", PRICES, figures=figs)
    assert found is not None and found.figure is not None
    assert (found.evidence, found.evidence_kind) == ("The EU imposed duties of €2.5 billion on steel.", "sentence")


# ------------------------------------------------------------------------------------------------ evidence


def test_evidence_is_the_first_sentence_with_a_matched_term() -> None:
    ents = [entity("Washington", "GPE", TRADE)]
    found = run('steel OR entity:"Washington"', TRADE, ents)
    assert found is not None
    assert found.evidence_kind == "sentence"
    # "U.S." and "Mr." do not end a sentence; Washington comes before steel
    assert found.evidence == (
        "China announced new export controls on rare earths and gallium, and Washington called the curbs unfair."
    )
    assert found.terms == ('entity:"Washington"', "steel")
    found = run("monday AND gallium", TRADE)
    assert found is not None and found.evidence == "BEIJING (Reuters) - Mr. Li said on Monday the U.S. would answer."


CAPTION = article(
    "A container ship at the port of Lianyungang, China. (Reuters/Photo)\n"
    "Exports of rare earth magnets from China fell 20% in May, customs data showed on Friday.\n"
    "China refines most of the world's rare earth ore, officials said.",
    title="Magnet exports slump",
)


def test_evidence_is_the_sentence_that_shows_most_of_the_match() -> None:
    ents = [entity("China", "GPE", CAPTION, nth=n) for n in range(3)]
    q = parse_query('"rare earth" AND entity:"China"')
    doc = inputs_from_records(CAPTION, ents, [])
    found = match(q, prepare(doc))
    assert found is not None and found.evidence_kind == "sentence"
    # the caption names China only; the next two sentences hold both terms, the earlier of them wins
    assert found.evidence == "Exports of rare earth magnets from China fell 20% in May, customs data showed on Friday."
    # the same input gives the same evidence, prepared once or again
    prepared = prepare(doc)
    assert match(q, prepared) == match(q, prepared) == found
    # not the first occurrence of each term: "rare earth" first comes alone, the sentence of the entity repeats it
    art = article("Rare earth prices rose. Analysts were surprised. Later China cut rare earth quotas.")
    found = run('"rare earth" AND entity:"China"', art, [entity("China", "GPE", art)])
    assert found is not None and found.evidence == "Later China cut rare earth quotas."


def test_evidence_counts_distinct_terms_and_ties_go_to_the_earliest() -> None:
    art = article(
        "Steel, steel and more steel. Tariffs followed. Steel tariffs were doubled. Steel and tariffs again.",
        title="Steel tariffs",
    )
    found = run("steel AND tariffs", art)
    # three occurrences of one term count once; two sentences hold both, the earlier one is the evidence (and
    # the title, which holds both too, gives way to a sentence of the text)
    assert found is not None and (found.evidence, found.evidence_kind) == ("Steel tariffs were doubled.", "sentence")
    found = run("steel OR tariffs OR again", art)
    assert found is not None and found.evidence == "Steel and tariffs again."
    found = run("followed OR doubled", art)  # one term in each of two sentences
    assert found is not None and found.evidence == "Tariffs followed."


def test_near_evidence_holds_both_operands() -> None:
    # "rare earths were mentioned export": a pair across the full stop starts in the first sentence
    art = article("Rare earths were mentioned. Export curbs hit rare earths hard.")
    found = run('export NEAR/5 "rare earths"', art)
    assert found is not None and found.evidence == "Export curbs hit rare earths hard."
    found = run('"rare earths" NEAR/5 export', art)  # the order does not matter
    assert found is not None and found.evidence == "Export curbs hit rare earths hard."
    # only a pair across sentences: the sentence where it starts, as before
    across = article("Officials discussed rare earths. Export curbs followed.")
    found = run('export NEAR/3 "rare earths"', across)
    assert found is not None and found.evidence == "Officials discussed rare earths."
    # a pair in the title only: the title
    titled = article("Nothing here.", title="Export curbs on rare earths")
    found = run('export NEAR/3 "rare earths"', titled)
    assert found is not None and (found.evidence, found.evidence_kind) == ("Export curbs on rare earths", "title")


FIGURES = article(
    "Tariffs were discussed at length. The EU imposed duties of €2.5 billion on steel. "
    "Tariffs on aluminium rose about 25%."
)


def test_a_figure_counts_in_its_sentence_beside_words() -> None:
    figs = [
        figure(FIGURES, "€2.5 billion", "money", value=2.5e9, unit="EUR", sentence="figure sentence 1"),
        figure(FIGURES, "about 25%", "percent", value=25.0, unit="percent", sentence="figure sentence 2"),
    ]
    found = run("figure(kind = percent AND value > 10) AND tariffs", FIGURES, figures=figs)
    assert found is not None and found.figure is not None and found.figure.text == "about 25%"
    assert (found.evidence, found.evidence_kind) == ("Tariffs on aluminium rose about 25%.", "sentence")
    found = run("figure(kind = money) AND (steel OR tariffs)", FIGURES, figures=figs)
    assert found is not None and found.evidence == "The EU imposed duties of €2.5 billion on steel."
    # every figure that satisfies the condition counts, not only the first; the match still reports the first
    found = run("figure(value > 10) AND aluminium", FIGURES, figures=figs)
    assert found is not None and found.figure is not None and found.figure.text == "€2.5 billion"
    assert found.evidence == "Tariffs on aluminium rose about 25%."
    # a figure alone: its own sentence, as the figure stage gave it
    found = run("figure(kind = percent)", FIGURES, figures=figs)
    assert found is not None and (found.evidence, found.evidence_kind) == ("figure sentence 2", "figure")


def test_evidence_is_the_title_when_only_the_title_matched() -> None:
    found = run("tightens", TRADE)
    assert found == Match(("tightens",), "China tightens rare-earth exports", "title", None)
    found = run("title:china AND lang:en", TRADE)
    assert found is not None and found.evidence_kind == "title"


def test_metadata_only_match_shows_the_title_or_first_sentence() -> None:
    found = run("outlet:reuters.com", TRADE)
    assert found == Match(("outlet:reuters.com",), "China tightens rare-earth exports", "metadata", None)
    found = run("lang:en", article("First one. Second one."))
    assert found is not None and (found.evidence, found.evidence_kind) == ("First one.", "metadata")


def test_terms_are_those_that_made_the_match() -> None:
    found = run("(gallium OR cricket OR curbs) AND NOT football AND (steel OR tennis*)", TRADE)
    assert found is not None
    assert found.terms == ("curbs", "gallium", "steel")  # not the NOT, not the OR branches that failed
    found = run('gallium OR (washington AND NOT "rare earths")', TRADE)
    assert found is not None and found.terms == ("gallium",)


def test_evidence_is_capped() -> None:
    long = article("Tariff " + "word " * 400 + "end.")
    found = run("tariff", long)
    assert found is not None and len(found.evidence) == MAX_EVIDENCE_CHARS and found.evidence.endswith("…")


def test_sentence_splitter() -> None:
    text = (
        'Mr. Smith of Acme Inc. met U.S. officials on Jan. 5. "It went well," he said. Talks continue!\n'
        "A heading without a stop\n"
        "No. 10 said so. Prices rose 2.5 per cent. e.g. this one stays. J. K. Rowling wrote."
    )
    sentences = [text[s:e] for s, e in split_sentences(text)]
    assert sentences == [
        "Mr. Smith of Acme Inc. met U.S. officials on Jan. 5.",
        '"It went well," he said.',
        "Talks continue!",
        "A heading without a stop",
        "No. 10 said so.",
        "Prices rose 2.5 per cent. e.g. this one stays.",
        "J. K. Rowling wrote.",
    ]
    assert split_sentences("") == [] and split_sentences("  \n ") == []


# ------------------------------------------------------------------------------------------------ records and rows


def _batch() -> list[tuple[Article, list[Entity], list[Figure]]]:
    a = TRADE
    b = article(
        "Siemens won a contract. The U.S. and the EU agreed on steel; the deal is worth $3.1 billion.",
        title="Steel deal",
        article_id="b2",
        url="https://apnews.com/article/b2",
    )
    c = article("Kein Treffer hier, Straße.", title=None, article_id="c3", url=None, language="de", source="spiegel")
    return [
        (
            a,
            [
                entity("China", "GPE", a),
                entity("U.S.", "GPE", a),
                entity("Chinese", "NORP", a),
                entity("Washington", "GPE", a),
            ],
            [
                figure(
                    a, "2.5 billion euros", "money", value=2.5e9, unit="EUR", object="anti-dumping duties", sentence="x"
                )
            ],
        ),
        (
            b,
            [entity("Siemens", "ORG", b), entity("U.S.", "GPE", b), entity("EU", "ORG", b)],
            [figure(b, "$3.1 billion", "money", value=3.1e9, unit="USD", object="deal", currency_source="symbol")],
        ),
        (c, [], []),
    ]


QUERIES = [
    'entity:"United States" AND steel',
    'entity:"European Union" AND figure(kind = money AND value >= 1bn)',
    "figure(unit in (usd) AND object ~ deal) OR gallium",
    "outlet:apnews.com OR lang:de",
    'entity.ORG:"Siemens"',
    'title:steel OR "rare earths" NEAR/5 export*',
    "straße",
    '"rare earths" AND entity:"China" AND figure(kind = money)',
]


def test_records_and_tables_give_the_same_inputs_and_matches() -> None:
    batch = _batch()
    from_records = [inputs_from_records(a, e, f) for a, e, f in batch]
    # the entity rows come in another order than the records: inputs are sorted by position either way
    articles = articles_table([a for a, _, _ in batch], {}, "run-1")
    entities = entities_table([(a, list(reversed(e))) for a, e, _ in batch], "run-1")
    figures = figures_table([(a, f) for a, _, f in batch], "run-1")
    from_tables = inputs_from_tables(articles, entities, figures)
    assert from_tables == from_records
    assert [len(d.entities) for d in from_tables] == [4, 3, 0]
    us = TRADE.text.index("U.S.")
    assert from_tables[0].entities[0] == EntityRef(
        entity_id_of("GPE:united states"), "GPE:united states", "U.S.", "U.S.", "GPE", us, us + 4
    )
    assert isinstance(from_tables[1].figures[0], FigureRef) and from_tables[1].outlet == "apnews.com"
    results = {}
    for query in QUERIES:
        q = parse_query(query)
        by_records = [match(q, prepare(d)) for d in from_records]
        by_tables = [match(q, prepare(d)) for d in from_tables]
        assert by_records == by_tables, query
        results[query] = [m is not None for m in by_records]
    assert results == {
        'entity:"United States" AND steel': [True, True, False],
        'entity:"European Union" AND figure(kind = money AND value >= 1bn)': [False, True, False],
        "figure(unit in (usd) AND object ~ deal) OR gallium": [True, True, False],
        "outlet:apnews.com OR lang:de": [False, True, True],
        'entity.ORG:"Siemens"': [False, True, False],
        'title:steel OR "rare earths" NEAR/5 export*': [True, True, False],
        "straße": [False, False, True],
        '"rare earths" AND entity:"China" AND figure(kind = money)': [True, False, False],
    }


def test_tables_of_an_older_schema() -> None:
    """Files written before ``entity_key`` and ``outlet`` existed: both are worked out as for records."""
    batch = _batch()
    articles = articles_table([a for a, _, _ in batch], {}, "run-1")
    entities = entities_table([(a, e) for a, e, _ in batch], "run-1")
    figures = figures_table([(a, f) for a, _, f in batch], "run-1")
    old_articles = articles.drop_columns(["outlet"])
    old_entities = entities.set_column(
        entities.schema.get_field_index("entity_key"), "entity_key", pa.nulls(entities.num_rows, pa.string())
    )
    old_figures = figures.drop_columns(["in_table", "currency_source"])
    old = inputs_from_tables(old_articles, old_entities, old_figures)
    new = inputs_from_tables(articles, entities, figures)
    assert [d.entities for d in old] == [d.entities for d in new]
    assert [d.outlet for d in old] == [d.outlet for d in new]
    assert old[1].figures[0].currency_source is None and new[1].figures[0].currency_source == "symbol"


def test_a_query_is_compiled_once() -> None:
    q = parse_query("steel")
    p = prepare(inputs_from_records(TRADE, [], []))
    match(q, p)
    compiled = q._memo["matcher"]
    match(q, p)
    assert q._memo["matcher"] is compiled


# ------------------------------------------------------------------------------------------------ against brute force

_VOCAB = ["steel", "steels", "tariff", "tariffs", "china", "rare", "earths", "ban"]


def _occurrences(fields: list[list[str]], tokens: list[str], prefix: bool) -> list[tuple[int, int]]:
    """Every (field, start) where ``tokens`` occur, by looking at every position."""
    found = []
    for f, seq in enumerate(fields):
        for i in range(len(seq) - len(tokens) + 1):
            window = seq[i : i + len(tokens)]
            if window[:-1] == tokens[:-1] and (
                window[-1].startswith(tokens[-1]) if prefix else window[-1] == tokens[-1]
            ):
                found.append((f, i))
    return found


def _reference(node: object, title: list[str], body: list[str]) -> bool:
    """A slow, obviously correct evaluation of words, phrases, NEAR, title: and AND/OR/NOT."""
    from tasks.watch.query import And, FieldTerm, Near, Not, Or, Phrase, Word

    def occ(n: Word | Phrase, fields: list[list[str]]) -> list[tuple[int, int]]:
        return _occurrences(fields, n.text.split(), isinstance(n, Word) and n.prefix)

    if isinstance(node, And):
        return all(_reference(i, title, body) for i in node.items)
    if isinstance(node, Or):
        return any(_reference(i, title, body) for i in node.items)
    if isinstance(node, Not):
        return not _reference(node.item, title, body)
    if isinstance(node, Word | Phrase):
        return bool(occ(node, [title, body]))
    if isinstance(node, FieldTerm):
        assert isinstance(node.value, Word | Phrase)
        return bool(occ(node.value, [title, []]))
    assert isinstance(node, Near)
    la, lb = len(node.left.text.split()), len(node.right.text.split())
    for fa, a in occ(node.left, [title, body]):
        for fb, b in occ(node.right, [title, body]):
            if fa != fb:
                continue
            if b >= a + la and b - (a + la - 1) <= node.distance:
                return True
            if a >= b + lb and a - (b + lb - 1) <= node.distance:
                return True
    return False


def _random_text_query(rng: random.Random, depth: int = 0) -> str:
    def operand() -> str:
        if rng.random() < 0.5:
            return rng.choice(_VOCAB) + ("*" if rng.random() < 0.2 else "")
        return '"' + " ".join(rng.choice(_VOCAB) for _ in range(rng.randint(1, 3))) + '"'

    r = rng.random()
    if depth > 2 or r < 0.35:
        return operand()
    if r < 0.5:
        return f"{operand()} NEAR/{rng.randint(1, 6)} {operand()}"
    if r < 0.6:
        return f"title:{operand()}"
    parts = [_random_text_query(rng, depth + 1) for _ in range(rng.randint(2, 3))]
    text = rng.choice([" AND ", " OR "]).join(parts)
    if rng.random() < 0.3:
        text = f"{_random_text_query(rng, depth + 1)} AND NOT ({text})"
    return f"({text})"


def test_words_phrases_and_near_agree_with_brute_force() -> None:
    rng = random.Random(3)
    docs = []
    for n in range(40):
        title = [rng.choice(_VOCAB) for _ in range(rng.randint(0, 5))]
        body = [rng.choice(_VOCAB) for _ in range(rng.randint(0, 30))]
        doc = MatchInput(f"d{n}", " ".join(title) or None, ". ".join(body), "en", "s", None)
        docs.append((title, body, prepare(doc)))
    agreed = matched = 0
    for _ in range(250):
        q = parse_query(_random_text_query(rng))
        for title, body, prepared in docs:
            expected = _reference(q.root, title, body)
            assert (match(q, prepared) is not None) == expected, (q.text, title, body)
            agreed += 1
            matched += expected
    assert 0.1 < matched / agreed < 0.9  # the comparison saw both outcomes plenty of times
