"""Local inputs: every file and JSONL line becomes an item or a rejection with a reason."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from tasks.load import LoadOptions, discover_local, load_items, split_title


def _load(paths: list[str], options: LoadOptions | None = None):  # type: ignore[no-untyped-def]
    options = options or LoadOptions()
    refs, rejected, skipped = discover_local(paths, options)
    items, rejected_load = load_items(refs, options)
    return items, [*rejected, *rejected_load], skipped


def test_split_title_uses_first_non_empty_line() -> None:
    assert split_title("\n\n  Headline here \nBody line one.\nBody line two.\n") == (
        "Headline here",
        "Body line one.\nBody line two.",
    )
    assert split_title("   \n") == (None, "")


def test_directory_is_read_recursively_with_each_format(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "page.html").write_text("<html><body><p>Hello</p></body></html>")
    (tmp_path / "a" / "page2.htm.gz").write_bytes(gzip.compress(b"<html><p>Zipped</p></html>"))
    (tmp_path / "story.txt").write_text("Title line\n\nBody of the story.")
    (tmp_path / "notes.md").write_text("not news")
    (tmp_path / ".hidden.html").write_text("<p>skip me</p>")
    items, rejected, skipped = _load([str(tmp_path)])
    assert rejected == []
    assert skipped == [str(tmp_path / "notes.md")]
    by_key = {Path(i.item_key).name: i for i in items}
    assert set(by_key) == {"page.html", "page2.htm.gz", "story.txt"}
    assert by_key["page2.htm.gz"].payload == b"<html><p>Zipped</p></html>"
    assert by_key["page2.htm.gz"].kind == "html"
    story = by_key["story.txt"]
    assert (story.kind, story.title, story.payload) == ("text", "Title line", b"Body of the story.")


def test_jsonl_fields_and_rejections(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    lines = [
        json.dumps(
            {
                "id": 7,
                "url": "https://x.example/a",
                "title": "T",
                "text": "Body",
                "outlet": "X",
                "published_at": "2025-01-02",
                "language": "en",
                "authors": ["A B"],
            }
        ),
        "",
        json.dumps({"id": "h1", "html": "<p>Page</p>"}),
        '{"id": "broken", "text": "cut off',
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": "empty", "title": "no body"}),
    ]
    path.write_text("\n".join(lines) + "\n")
    items, rejected, _ = _load([str(path)])
    assert [i.item_key for i in items] == [f"{path}#L1", f"{path}#L3"]
    first = items[0]
    assert (first.external_id, first.url, first.source, first.published_at, first.language) == (
        "7",
        "https://x.example/a",
        "X",
        "2025-01-02",
        "en",
    )
    assert first.authors == ("A B",)
    assert first.published_at_source == "input"
    assert items[1].kind == "html" and items[1].external_id == "h1"
    reasons = {r.item_key.rsplit("#", 1)[1]: r.reason for r in rejected}
    assert reasons == {"L4": "invalid_json", "L5": "invalid_item", "L6": "missing_content"}
    missing = next(r for r in rejected if r.reason == "missing_content")
    assert missing.external_id == "empty"
    assert b"no body" in missing.payload


def test_unreadable_inputs_are_rejected_not_lost(tmp_path: Path) -> None:
    (tmp_path / "bad.html.gz").write_bytes(b"this is not gzip")
    (tmp_path / "empty.html").write_bytes(b"  \n")
    big = tmp_path / "big.html"
    big.write_bytes(b"x" * 2000)
    bomb = tmp_path / "bomb.html.gz"
    bomb.write_bytes(gzip.compress(b"a" * 5000))
    items, rejected, _ = _load([str(tmp_path), str(tmp_path / "missing.html")], LoadOptions(max_bytes=1000))
    assert items == []
    reasons = {Path(r.source_uri).name: r.reason for r in rejected}
    assert reasons == {
        "bad.html.gz": "bad_gzip",
        "empty.html": "empty_payload",
        "big.html": "too_large",
        "bomb.html.gz": "too_large",
        "missing.html": "unreadable_file",
    }


def test_text_files_in_other_encodings_are_decoded(tmp_path: Path) -> None:
    (tmp_path / "latin.txt").write_bytes("Café prices\nThe café raised prices by 5 per cent.".encode("cp1252"))
    items, rejected, _ = _load([str(tmp_path)])
    assert rejected == []
    assert items[0].title == "Café prices"
    assert items[0].payload.decode("utf-8") == "The café raised prices by 5 per cent."
