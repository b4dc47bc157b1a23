"""Tests for the watch query language (tasks/watch/query.py) and the watch file (tasks/watch/watches.py): what parses
to what, the canonical text and fingerprint, and errors that point at the right line and column."""

from __future__ import annotations

import pickle
import random
from pathlib import Path

import pytest

from tasks.watch.query import (
    And,
    Comparison,
    EntityTerm,
    FieldTerm,
    FigureTerm,
    Near,
    Not,
    Or,
    Phrase,
    WatchQueryError,
    Word,
    parse_number,
    parse_query,
)
from tasks.watch.watches import Watch, WatchFileError, load_watches, parse_watches

REPO = Path(__file__).resolve().parent.parent

# ------------------------------------------------------------------------------------------------ good queries


def test_words_phrases_and_precedence() -> None:
    q = parse_query('Tariff* OR "Rare  Earths" steel NOT china')
    # NOT > AND > OR; juxtaposition is AND
    assert q.root == Or((And((Phrase("rare earths"), Word("steel"), Not(Word("china")))), Word("tariff", True)))
    assert q.text == '"rare earths" AND steel AND NOT china OR tariff*'


def test_parentheses_change_grouping() -> None:
    assert parse_query("a OR b AND c").text == "a OR b AND c"
    assert parse_query("(a OR b) AND c").root == And((Or((Word("a"), Word("b"))), Word("c")))
    assert parse_query("(a OR b) c").text == "(a OR b) AND c"
    assert parse_query("NOT (a AND b) AND c").root == And((Word("c"), Not(And((Word("a"), Word("b"))))))


def test_near_fields_and_entities() -> None:
    q = parse_query('"rare earths" NEAR/10 export* entity.LOC:"Paris" entity_id:0123456789ABCDEF')
    assert q.root == And(
        (
            Near(Phrase("rare earths"), Word("export", True), 10),
            EntityTerm("Paris", "GPE"),  # LOC and FAC are written as their coarse label
            EntityTerm("0123456789abcdef", None, by_id=True),
        )
    )
    assert parse_query('entity:"United  States"').root == EntityTerm("United States")
    assert parse_query("source:Reuters").root == FieldTerm("source", "reuters")
    assert parse_query("outlet:https://uk.reuters.com/markets").root == FieldTerm("outlet", "reuters.com")
    assert parse_query("language:EN").root == FieldTerm("lang", "en")
    assert parse_query('title:"Trade War"').root == FieldTerm("title", Phrase("trade war"))
    assert parse_query("title:tariff*").root == FieldTerm("title", Word("tariff", True))


def test_figure_conditions() -> None:
    q = parse_query('figure(kind = money AND unit in (USD, EUR, usd) AND value >= 2.5bn AND object ~ "tariff")')
    assert q.root == FigureTerm(
        And(
            (
                Comparison("kind", "=", "money"),
                Comparison("object", "~", Phrase("tariff")),
                Comparison("unit", "in", ("eur", "usd")),
                Comparison("value", ">=", 2.5e9),
            )
        )
    )
    assert q.text == 'figure(kind = money AND object ~ "tariff" AND unit in (eur, usd) AND value >= 2500000000)'
    q = parse_query("figure(value>300m OR NOT approximate = TRUE in_table = false object ~ (steel OR alumin*))")
    assert q.text == (
        "figure(in_table = false AND object ~ (alumin* OR steel) AND NOT approximate = true OR value > 300000000)"
    )


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1e9", 1e9),
        ("1000000", 1e6),
        ("1_000_000", 1e6),
        ("2.5bn", 2.5e9),
        ("300m", 3e8),
        ("40k", 4e4),
        ("1.2tn", 1.2e12),
        ("-5", -5.0),
        ("12%", 12.0),
        (".5", 0.5),
    ],
)
def test_numbers(raw: str, value: float) -> None:
    assert parse_number(raw) == pytest.approx(value)
    assert parse_query(f"figure(value >= {raw})").root == FigureTerm(Comparison("value", ">=", value))


@pytest.mark.parametrize("raw", ["1e9x", "1,000", "1__0", "bn", "1e999", "2.5 bn"])
def test_bad_numbers_are_none(raw: str) -> None:
    assert parse_number(raw) is None


@pytest.mark.parametrize(
    "text",
    [
        "tariff",
        'Tariff* OR "Rare  Earths" steel NOT china',
        'entity:"United States" AND (chips OR semiconductor*) NOT outlet:www.reuters.com',
        '"rare earths" NEAR/10 export NOT x NEAR/2 "y z"',
        'figure(kind = money AND unit in (EUR, USD) AND value >= 1e9 AND object ~ "tariff")',
        "figure(value>=2.5bn OR NOT (approximate = true) object ~ (steel OR aluminium*)) lang:EN",
        'entity.ORG:"Siemens" entity_id:0123456789abcdef source:"Le Monde" U.S. covid-19* title:"a \\"b\\""',
        "figure(sentence ~ NOT x AND kind = percent AND currency_source in (symbol, text))",
        'figure(unit = "metric ton" AND value in (1, 2.5, 1e20)) OR source:AND',
    ],
)
def test_canonical_text_round_trips(text: str) -> None:
    q = parse_query(text)
    again = parse_query(str(q))
    assert again == q
    assert again.text == q.text
    assert again.fingerprint == q.fingerprint


def test_rewording_keeps_the_fingerprint() -> None:
    a = parse_query('entity:"China" AND (tariff* OR "rare earths")\nAND NOT sport')
    b = parse_query('  ("Rare Earths" OR TARIFF*)   NOT sport entity:"China"  ')
    c = parse_query('entity:"China" AND ("rare earths" OR tariff*) AND NOT sport AND (tariff* OR "rare earths")')
    assert a == b == c
    assert a.fingerprint == b.fingerprint == c.fingerprint
    assert len(a.fingerprint) == 16 and int(a.fingerprint, 16) >= 0
    assert parse_query("tariff").fingerprint != parse_query("tariffs").fingerprint


def test_query_pickles_as_its_tree() -> None:
    q = parse_query('entity:"China" AND tariff*')
    q.memo("x", lambda _: object())  # a memo must not travel
    back = pickle.loads(pickle.dumps(q))
    assert back == q and back.text == q.text
    assert "x" not in back._memo


def test_curly_quotes_are_quotes() -> None:
    assert parse_query("“rare earths”").root == Phrase("rare earths")


# ------------------------------------------------------------------------------------------------ bad queries


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("", 1, 1, "the query is empty"),
        ("   \n  ", 1, 1, "the query is empty"),
        ("(a OR b", 1, 1, "never closed"),
        ("a OR (b AND (c OR d)", 1, 6, "never closed"),
        ("a OR b)", 1, 7, "unmatched ')'"),
        ('x AND "rare earths', 1, 7, "quote is never closed"),
        ("tariff AND", 1, 8, "'AND' needs a term after it"),
        ("AND tariff", 1, 1, "'AND' needs a term before it"),
        ("tariff OR OR duty", 1, 8, "'OR' needs a term after it"),
        ("tariff NOT", 1, 8, "'NOT' needs a term after it"),
        ('entiy:"China"', 1, 1, "did you mean 'entity:'?"),
        ("steel AND titel:x", 1, 11, "did you mean 'title:'?"),
        ('entity.ORGG:"x"', 1, 1, "did you mean 'ORG'?"),
        ("figure(valeu > 5)", 1, 8, "did you mean 'value'?"),
        ("figure(value => 5)", 1, 14, "did you mean '>='?"),
        ("figure(value is 5)", 1, 14, "expected an operator after 'value'"),
        ("figure(kind > 5)", 1, 13, "'>' does not apply to 'kind'"),
        ("figure(kind = mony)", 1, 15, "did you mean 'money'?"),
        ("figure(value >= 1e9x)", 1, 17, "'1e9x' is not a number"),
        ("figure(value >= 1,000)", 1, 18, "without commas"),
        ("figure(unit in EUR)", 1, 13, "'in' needs a list"),
        ("figure(unit in ())", 1, 16, "empty list"),
        ("figure()", 1, 7, "needs a condition"),
        ("figure(kind = money", 1, 7, "never closed"),
        ("a NEAR b", 1, 3, "NEAR needs a distance"),
        ("a NEAR/0 b", 1, 3, "from 1 to 1000"),
        ("(a OR b) NEAR/5 c", 1, 1, "NEAR joins words or phrases"),
        ('a NEAR/5 entity:"X"', 1, 10, "NEAR joins words or phrases"),
        ("a NEAR/5 b NEAR/5 c", 1, 12, "one NEAR at a time"),
        ("NOT tariff", 1, 1, "no positive term"),
        ("steel OR NOT tariff", 1, 10, "OR branch has no positive term"),
        ("steel OR (NOT a AND NOT b)", 1, 11, "OR branch has no positive term"),
        ("tariff or duty", 1, 8, "write OR"),
        ("value >= 5", 1, 7, "comparisons belong inside figure(...)"),
        ("()", 1, 1, "empty parentheses"),
        ("ta*iff", 1, 1, "only a trailing '*'"),
        ('"" x', 1, 1, "empty phrase"),
        ("entity_id:xyz", 1, 11, "16 hex digits"),
        ("lang:english", 1, 6, "no language code"),
        ("outlet: x", 1, 1, "expected a value right after 'outlet:'"),
        ('figure(object ~ entity:"x")', 1, 17, "only words and phrases"),
        # a query over several lines (a TOML multi-line string): the line and column of the token itself
        ('entity:"China"\n  AND (tariff* OR\n       entiy:"x")', 3, 8, "did you mean 'entity:'?"),
        ("steel\n  AND (tariff OR duty", 2, 7, "never closed"),
    ],
)
def test_errors_point_at_the_token(text: str, line: int, column: int, fragment: str) -> None:
    with pytest.raises(WatchQueryError) as caught:
        parse_query(text)
    err = caught.value
    assert (err.line, err.column) == (line, column), str(err)
    assert fragment in err.message
    assert str(err) == f"line {line}, column {column}: {err.message}"
    lines = text.split("\n")
    assert sum(len(x) + 1 for x in lines[: line - 1]) + column - 1 == err.offset


# ------------------------------------------------------------------------------------------------ the watch file


def test_shipped_watch_file_parses() -> None:
    watches = load_watches(REPO / "deployments" / "watches.toml")
    assert 5 <= len(watches) <= 8
    assert len({w.name for w in watches}) == len(watches)
    text = " ".join(w.query.text for w in watches)
    for feature in ("entity:", "entity.ORG:", "NEAR/", "figure(", "outlet:", "lang:", '"'):
        assert feature in text, feature
    for w in watches:
        assert w.fingerprint == w.query.fingerprint and len(w.fingerprint) == 16
        assert w.description


def test_watch_fields() -> None:
    text = (
        '[[watch]]\nname = "a"\nquery = "tariff"\n\n'
        "[[watch]]\n"
        'name = "b-2"\ndescription = "two"\nmin_stories = 3\n'
        "query = '''\n  steel\n  AND dumping\n'''\n"
    )
    a, b = parse_watches(text, "w.toml")
    assert (a.name, a.query_text, a.description, a.min_stories) == ("a", "tariff", None, None)
    assert (b.name, b.description, b.min_stories, b.query.text) == ("b-2", "two", 3, "dumping AND steel")
    assert parse_watches("") == []


def test_watch_fingerprint_is_checked() -> None:
    q = parse_query("tariff")
    assert Watch("w", "tariff", q, "", "").fingerprint == q.fingerprint
    with pytest.raises(ValueError, match="fingerprint"):
        Watch("w", "tariff", q, "0" * 16)


def _file_error(text: str) -> WatchFileError:
    with pytest.raises(WatchFileError) as caught:
        parse_watches(text, "deployments/w.toml")
    return caught.value


def test_query_error_in_a_multiline_literal_is_placed_in_the_file() -> None:
    text = (
        "# watches\n"  # line 1
        "[[watch]]\n"
        'name = "ok"\n'
        'query = "steel"\n'
        "\n"  # line 5
        "[[watch]]\n"
        'name = "chips"\n'
        "query = '''\n"  # line 8: the newline after ''' is not part of the query
        '    entity:"China"\n'  # line 9
        "    AND (chips OR entiy:x)\n"  # line 10: the bad field is at column 19
        "'''\n"
    )
    err = _file_error(text)
    assert (err.path, err.watch, err.line, err.column) == ("deployments/w.toml", "chips", 10, 19)
    assert "did you mean 'entity:'?" in err.message
    assert str(err).startswith("deployments/w.toml, watch 'chips', line 10, column 19: unknown field 'entiy:'")


def test_query_error_in_a_basic_string_with_escapes() -> None:
    # the \" escapes take two characters in the file and one in the query
    text = '[[watch]]\nname = "x"\nquery = "entity:\\"China\\" AND )"\n'
    err = _file_error(text)
    assert (err.watch, err.line, err.column) == ("x", 3, 27)
    assert "'AND' needs a term after it" in err.message
    text = '[[watch]]\nname = "x"\nquery = "entity:\\"China\\" \\u00e9 )"\n'
    err = _file_error(text)
    assert (err.line, err.column) == (3, 34)
    assert "unmatched ')'" in err.message
    # a multi-line basic string with a line-ending backslash
    text = '[[watch]]\nname = "y"\nquery = """\nsteel \\\n   AND OR x"""\n'
    err = _file_error(text)
    assert (err.line, err.column) == (5, 4)
    assert "'AND' needs a term after it" in err.message


def test_toml_syntax_error_keeps_tomllib_place() -> None:
    err = _file_error('[[watch]]\nname = "x"\nquery = "a\n')
    assert err.watch is None and err.line == 3
    assert err.message.startswith("TOML syntax:")


@pytest.mark.parametrize(
    ("text", "watch", "line", "fragment"),
    [
        ('[[watch]]\nname = "a"\nqeury = "x"\n', "a", 3, "did you mean 'query'?"),
        ('[[watch]]\nname = "Steel Watch"\nquery = "x"\n', "Steel Watch", 2, "may hold only a-z"),
        ('[[watch]]\nquery = "x"\n', "#1", 1, "needs a name"),
        ('[[watch]]\nname = "a"\nquery = "x"\n[[watch]]\nname = "a"\nquery = "y"\n', "a", 5, "already used"),
        ('[[watch]]\nname = "a"\n', "a", 1, "needs a query"),
        ('[[watch]]\nname = "a"\nquery = "  "\n', "a", 3, "needs a query"),
        ('[[watch]]\nname = "a"\nquery = "x"\nmin_stories = 0\n', "a", 4, "min_stories"),
        ('[[watch]]\nname = "a"\nquery = "x"\nmin_stories = "3"\n', "a", 4, "min_stories"),
        ('[[watch]]\nname = "a"\nquery = "x"\ndescription = 5\n', "a", 4, "description must be a string"),
        ('title = "x"\n[[watch]]\nname = "a"\nquery = "x"\n', None, 1, "unknown key 'title'"),
    ],
)
def test_watch_file_errors(text: str, watch: str | None, line: int, fragment: str) -> None:
    err = _file_error(text)
    assert err.watch == watch
    assert err.line == line
    assert fragment in err.message
    assert "deployments/w.toml" in str(err)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(WatchFileError, match="cannot read"):
        load_watches(tmp_path / "missing.toml")


# ------------------------------------------------------------------------------------------------ random queries

_TERMS = [
    "tariff", "Tariff*", '"rare earths"', "U.S.", 'entity:"China"', "entity.ORG:Siemens", "outlet:reuters.com",
    "lang:de", "title:steel", 'title:"trade war"', "source:afp", "x NEAR/3 y", '"a b" NEAR/10 c*',
    "figure(kind = money AND value >= 1bn)", "figure(unit in (EUR, usd) OR NOT approximate = true)",
    'figure(object ~ (steel OR "iron ore") AND value < 40k)',
]  # fmt: skip


def _random_query(rng: random.Random, depth: int = 0) -> str:
    if depth > 2 or rng.random() < 0.3:
        return rng.choice(_TERMS)
    parts = [_random_query(rng, depth + 1) for _ in range(rng.randint(2, 3))]
    joined = rng.choice([" AND ", " OR ", " ", "\n  AND "]).join(parts)
    if rng.random() < 0.3:
        joined = f"{rng.choice(_TERMS)} AND NOT ({joined})"
    return f"({joined})" if rng.random() < 0.5 else joined


def test_random_queries_round_trip() -> None:
    rng = random.Random(11)
    for _ in range(150):
        text = _random_query(rng)
        q = parse_query(text)
        again = parse_query(q.text)
        assert again == q and again.text == q.text, text


def test_random_junk_raises_only_query_errors() -> None:
    rng = random.Random(5)
    alphabet = ['"', "(", ")", " ", "\n", "AND", "OR", "NOT", "NEAR/2", "a", "b*", ":", "entity:", "figure(",
                "value", ">=", "in", ",", "~", "1bn", "\\", "“", "*", "kind", "=", "money"]  # fmt: skip
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        try:
            q = parse_query(text)
        except WatchQueryError as err:
            lines = text.split("\n")
            assert 1 <= err.line <= len(lines) and 1 <= err.column <= len(lines[err.line - 1]) + 1, text
            continue
        assert parse_query(q.text) == q, text
