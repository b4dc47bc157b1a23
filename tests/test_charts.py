"""The report's charts: deterministic, well-formed inline SVG with text kept as text, and the watch sections."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tasks.report import render_report, render_watch_section
from tasks.watch.charts import LABEL_CHARS, TimelinePoint, bars_svg, shorten, timeline_svg

REPO = Path(__file__).resolve().parents[1]


def daily(days: int, *, start: date = date(2025, 10, 1), spikes: tuple[int, ...] = ()) -> list[TimelinePoint]:
    """Return ``days`` daily points with a varying count, a baseline after the first week, and ``spikes``."""
    return [
        (start + timedelta(days=i), (i * 7) % 11, 4.0 + i / 20 if i >= 7 else None, i in spikes) for i in range(days)
    ]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == "svg"
    return root


def texts(root: ET.Element) -> list[str]:
    """Return the visible text of the chart: <text> elements, not tooltips or the title."""
    return [t.text or "" for t in root.iter("text")]


def with_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if name in (e.get("class") or "").split()]


# ------------------------------------------------------------------------------------------------ timeline


def test_the_same_input_gives_the_same_bytes() -> None:
    points = daily(30, spikes=(12,))
    assert timeline_svg(points, title="Tariffs") == timeline_svg(points, title="Tariffs")
    rows = [{"label": "reuters.com", "n": 4}, {"label": "apnews.com", "n": 2}]
    assert bars_svg(rows, title="Top outlets") == bars_svg(rows, title="Top outlets")


def test_the_same_input_gives_the_same_bytes_in_another_process() -> None:
    """matplotlib salts its ids with a random uuid per process unless told otherwise."""
    script = (
        "import hashlib; from datetime import date, timedelta; from tasks.watch.charts import timeline_svg; "
        "p = [(date(2025, 1, 1) + timedelta(days=i), i % 4, 2.0, i == 5) for i in range(20)]; "
        "print(hashlib.sha256(timeline_svg(p, title='t').encode()).hexdigest())"
    )
    here = [(date(2025, 1, 1) + timedelta(days=i), i % 4, 2.0, i == 5) for i in range(20)]
    there = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    assert there.stdout.strip() == hashlib.sha256(timeline_svg(here, title="t").encode()).hexdigest()


def test_the_svg_is_well_formed_titled_and_ready_to_inline() -> None:
    title = 'Stories per day matching "EU & <tariffs>"'
    svg = timeline_svg(daily(14, spikes=(3,)), title=title)
    root = parse(svg)
    assert root[0].tag == "title" and root[0].text == title  # first child: the accessible name
    assert root.get("role") == "img"
    assert svg.startswith("<svg ") and "<?xml" not in svg and "DOCTYPE" not in svg
    assert "http://" not in svg and "https://" not in svg  # no namespace URLs, no metadata
    assert "<metadata" not in svg and "<style" not in svg
    assert title in texts(root)  # text stays text (svg.fonttype none), not glyph paths
    assert not any(e.tag == "use" and e.get("href", "").startswith("#DejaVu") for e in root.iter())


def test_a_bar_per_period_and_nothing_else_is_a_rect() -> None:
    root = parse(timeline_svg(daily(21, spikes=(9, 15)), title="t"))
    rects = list(root.iter("rect"))
    assert len(rects) == 21
    bars = with_class(root, "bar")
    assert len(bars) == 21
    tips = [b.findtext("title") for b in bars]
    assert tips[0] == "1 Oct 2025: 0 stories"
    assert tips[9] == "10 Oct 2025: 8 stories, expected 4.5, spike"
    assert tips[10] == "11 Oct 2025: 4 stories, expected 4.5"


def test_spike_markers_appear_only_for_flagged_periods() -> None:
    quiet = parse(timeline_svg(daily(21), title="quiet"))
    assert with_class(quiet, "spike-marker") == [] and with_class(quiet, "spike") == []
    assert "spike (count above)" not in texts(quiet)

    loud = parse(timeline_svg(daily(21, spikes=(9, 15)), title="loud"))
    assert len(with_class(loud, "spike-marker")) == 2
    assert [" ".join(b.get("class", "").split()) for b in with_class(loud, "spike")] == ["bar spike", "bar spike"]
    labels = with_class(loud, "spike-label")
    assert ["".join(t.text or "" for t in label.iter("text")) for label in labels] == [
        str(9 * 7 % 11),
        str(15 * 7 % 11),
    ]
    spike_fills = {r.get("style") for b in with_class(loud, "spike") for r in b.iter("rect")}
    plain_fills = {r.get("style") for b in with_class(loud, "bar") if "spike" not in b.get("class", "") for r in b}
    assert spike_fills.isdisjoint(plain_fills)  # a distinct colour
    assert "spike (count above)" in texts(loud)


def test_the_baseline_is_drawn_only_when_expected_values_are_given() -> None:
    with_baseline = parse(timeline_svg(daily(14), title="a"))
    assert any((e.get("id") or "").endswith("-baseline") for e in with_baseline.iter())
    assert "expected" in texts(with_baseline)
    bare = [(d, n, None, False) for d, n, _, _ in daily(14)]
    without = parse(timeline_svg(bare, title="b"))
    assert not any((e.get("id") or "").endswith("-baseline") for e in without.iter())
    assert "expected" not in texts(without) and "stories" not in texts(without)  # no legend at all


def test_daily_labels_show_the_year_on_the_first_label_and_across_new_year() -> None:
    root = parse(timeline_svg(daily(20, start=date(2025, 12, 20)), title="t"))
    labels = texts(root)
    assert "20 Dec" in labels and labels.count("2025") == 1 and labels.count("2026") == 1


def test_week_axis_labels_name_the_iso_week_and_its_monday() -> None:
    points = [(date(2025, 11, 3) + timedelta(weeks=i), i + 1, None, False) for i in range(6)]
    labels = texts(parse(timeline_svg(points, title="weekly", unit="week")))
    assert labels[: labels.index("10 Nov") + 1] == ["W45", "3 Nov", "2025", "W46", "10 Nov"]
    assert "stories per week" in labels


def test_month_axis_labels_name_the_month_and_the_year_when_it_changes() -> None:
    months = [date(2025, m, 1) for m in range(9, 13)] + [date(2026, m, 1) for m in range(1, 4)]
    labels = texts(parse(timeline_svg([(m, 3, None, False) for m in months], title="monthly", unit="month")))
    assert [label for label in labels if label in {"Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar"}] == [
        "Sep",
        "Oct",
        "Nov",
        "Dec",
        "Jan",
        "Feb",
        "Mar",
    ]
    assert labels.count("2025") == 1 and labels.count("2026") == 1
    assert "stories per month" in labels


def test_a_long_daily_series_is_labelled_sparsely() -> None:
    labels = texts(parse(timeline_svg(daily(60), title="t")))
    day_labels = [t for t in labels if re.fullmatch(r"\d{1,2} [A-Z][a-z]{2}", t)]
    assert 5 <= len(day_labels) <= 10


def test_a_sixty_day_timeline_stays_small() -> None:
    svg = timeline_svg(daily(60, spikes=(10, 30, 50)), title="Stories per day matching tariffs")
    assert len(svg.encode()) < 40_000


def test_unknown_units_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown timeline unit 'year'"):
        timeline_svg(daily(3), title="t", unit="year")


def test_an_empty_timeline_says_so() -> None:
    root = parse(timeline_svg([], title="nothing"))
    assert "No data in this period." in texts(root) and list(root.iter("rect")) == []


# ---------------------------------------------------------------------------------------------------- bars


def test_bars_cut_long_labels_and_keep_the_full_label_in_the_tooltip() -> None:
    long_name = "Federal Office for Migration and Refugees of Germany (ORG)"
    root = parse(bars_svg([{"label": long_name, "n": 7}, {"label": "BAMF", "n": 2}], title="Entities"))
    shown = texts(root)
    assert long_name not in shown
    cut = [t for t in shown if t.endswith("…")]
    assert len(cut) == 1 and len(cut[0]) <= LABEL_CHARS and long_name.startswith(cut[0][:-1])
    assert "BAMF" in shown and "7" in shown and "2" in shown
    tips = [t.text for b in with_class(root, "bar") for t in b.iter("title")]
    assert tips == [f"{long_name}: 7", "BAMF: 2"]


def test_bars_keep_row_order_and_stop_at_the_limit() -> None:
    rows = [{"source": f"outlet{i}.example", "articles": 20 - i} for i in range(15)]
    root = parse(bars_svg(rows, title="Sources", label="source", value="articles", limit=5))
    assert len(list(root.iter("rect"))) == 5
    labels = [t for t in texts(root) if t.startswith("outlet")]
    assert labels == [f"outlet{i}.example" for i in range(5)]  # top down, in the rows' order
    widths = [float(r.get("width", 0)) for r in root.iter("rect")]
    assert widths == sorted(widths, reverse=True)


def test_bar_labels_with_dollars_and_markup_stay_literal() -> None:
    svg = bars_svg([{"label": "US$5bn and $x$ <b>", "n": None}], title="$ & <i>")
    root = parse(svg)
    assert "US$5bn and $x$ <b>" in texts(root)  # not mathtext, escaped in the markup
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    assert "0" in texts(root)  # a missing value counts as 0


def test_shorten_flattens_whitespace_and_cuts_with_an_ellipsis() -> None:
    assert shorten("a\n  b") == "a b"
    assert shorten("x" * 40, limit=10) == "x" * 9 + "…"
    assert shorten("x" * 10, limit=10) == "x" * 10


def test_two_charts_in_one_page_share_no_id_and_resolve_their_own_references() -> None:
    first = parse(timeline_svg(daily(10, spikes=(2,)), title="one"))
    second = parse(timeline_svg(daily(10, spikes=(2,)), title="two"))
    ids = [{e.get("id") for e in root.iter() if e.get("id")} for root in (first, second)]
    assert ids[0] and ids[0].isdisjoint(ids[1])
    for root, own in zip((first, second), ids, strict=True):
        refs = {m for e in root.iter() for m in re.findall(r"url\(#([^)]+)\)", e.get("clip-path", ""))}
        refs |= {e.get("href", "")[1:] for e in root.iter() if e.get("href", "").startswith("#")}
        assert refs and refs <= own


def test_importing_the_report_does_not_import_matplotlib() -> None:
    script = "import sys, tasks.report; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# -------------------------------------------------------------------------------------------------- report


def watch_section(name: str = "EU <tariffs>") -> dict[str, object]:
    return {
        "name": name,
        "query": 'tariff* AND entity:"European Union" AND NOT title:"<script>"',
        "unit": "day",
        "points": [[d.isoformat(), n, e, f] for d, n, e, f in daily(14, spikes=(9,))],  # as read back from JSON
        "top_outlets": [{"label": "reuters.com", "n": 5}, {"label": "<b>bold</b>.example", "n": 2}],
        "top_entities": [{"label": "European Union (ORG)", "n": 9}],
        "alerts": [
            {
                "kind": "spike",
                "day": date(2025, 10, 10),
                "observed": 9,
                "expected": 4.123,
                "score": 3.14159,
                "detail": "<img src=x onerror=alert(1)>",
            }
        ],
    }


def test_a_watch_section_has_heading_query_timeline_bars_and_alerts_all_escaped() -> None:
    section = render_watch_section(watch_section())
    assert '<section class="watch" id="watch-eu-tariffs">' in section
    assert "<h2>Watch: EU &lt;tariffs&gt;</h2>" in section
    assert "<code>tariff* AND entity:&quot;European Union&quot; AND NOT title:&quot;&lt;script&gt;&quot;</code>" in (
        section
    )
    assert "<script>" not in section and "<img" not in section and "<b>bold" not in section
    assert "&lt;img src=x onerror=alert(1)&gt;" in section
    assert section.count("<svg ") == 3 and section.count('<div class="chart">') == 2
    assert section.count("<rect") == 14 + 2 + 1  # 14 days, 2 outlets, 1 entity
    assert 'class="spike-marker"' in section
    assert "<td>spike</td><td>2025-10-10</td><td>9</td><td>4.1</td><td>3.14</td>" in section


def test_a_watch_with_no_matches_gets_notes_not_empty_charts() -> None:
    quiet = {"name": "quiet", "query": "nothing", "unit": "week", "points": [], "alerts": []}
    section = render_watch_section(quiet)
    assert "<svg" not in section
    assert section.count("Nothing matched in this period.") == 3
    assert "No alerts in this period." in section


def test_the_report_renders_its_watches_after_the_overview() -> None:
    data: dict[str, list[dict[str, object]]] = {
        "articles_per_day": [{"day": "2025-11-22", "n": 2}, {"day": "2025-11-23", "n": 3}],
        "articles_per_source": [{"source": "a.example", "n": 5}],
        "top_entities": [],
        "figures_by_kind": [],
        "duplicates_per_cluster": [],
        "money": [],
        "runs": [],
        "watches": [watch_section("tariffs"), watch_section("rare earths")],
    }
    document = render_report(data, "2025-11-01", datetime(2025, 11, 24, tzinfo=UTC))
    headings = re.findall(r"<h2>([^<]*)</h2>", document)
    assert headings[:4] == ["Articles per day", "Articles per source", "Top entities", "Figures by kind"]
    assert headings[-2:] == ["Watch: tariffs", "Watch: rare earths"]
    assert 'id="watch-rare-earths"' in document
    assert "<script" not in document and "http://" not in document and "https://" not in document
    ids = re.findall(r'\sid="([^"]+)"', document)
    assert len(ids) == len(set(ids))  # charts of different watches never share an id
    per_day = document[document.index('id="chart-articles-per-day"') : document.index('id="chart-articles-per-source"')]
    assert per_day.count("<rect") == 2 and "22 Nov" in per_day and "expected" not in per_day
    assert "articles per day" in per_day and "<title>23 Nov 2025: 3 articles</title>" in per_day
