"""Charts for the HTML report, drawn by matplotlib and returned as SVG strings to inline in the page.

The report is one self-contained file that analysts open offline, so a chart is markup, not a picture: matplotlib's
SVG backend only (no GUI backend, no pyplot state), text kept as ``<text>`` (``svg.fonttype = "none"``, so labels
stay small, selectable and findable with Ctrl+F), and a ``<title>`` that names the chart for screen readers.

The backend's output is then tidied for inlining (:func:`_tidy_svg`):

* no XML prolog, DOCTYPE, metadata or namespace declarations: the HTML parser puts ``<svg>`` in the SVG namespace
  by itself, and the page then names no URL at all (``xlink:href`` becomes SVG 2's plain ``href``);
* every id carries a prefix derived from the chart's kind and title, and ``svg.hashsalt`` is fixed, so the same
  input gives the same bytes and two charts in one page never share an id (a clip path that resolves to another
  chart's clip path silently hides bars), as long as the charts of a page have different titles;
* each bar is one ``<rect>`` with a ``<title>`` tooltip giving the full label and the exact count, and nothing
  else in a chart is a ``<rect>``: a bar can be counted and queried (``#section rect``) like a table row.

matplotlib is imported inside the functions: the command line imports the report lazily and should start fast.
"""

from __future__ import annotations

import calendar
import hashlib
import math
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

TimelinePoint = tuple[date, int, float | None, bool]
"""One period of a timeline: (period start, stories, expected stories or None, flagged as a spike)."""

UNITS = ("day", "week", "month")

BAR_COLOUR = "#3b6fd8"
SPIKE_COLOUR = "#d8503b"  # red-orange: apart from the blue bars for readers with red-green colour blindness too
BASELINE_COLOUR = "#1d2330"
MUTED_COLOUR = "#5b6375"

# At 10 px a label of 32 characters takes about half of a 7-inch chart: enough for "Federal Reserve Bank of New
# York (ORG)" to stay recognisable; the full label is in the bar's tooltip.
LABEL_CHARS = 32
# Ten date labels of "W45 / 3 Nov" fit a 7.5-inch axis at 9 px without touching.
MAX_DATE_LABELS = 10

_MONTHS = tuple(calendar.month_abbr)  # ("", "Jan", ..., "Dec"): English whatever the process locale
_SVG_NS = "{http://www.w3.org/2000/svg}"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_REF = re.compile(r"url\(#([^)]+)\)")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")

# rcParams are process-wide: rendering holds this lock so that two threads of one run (a report built while a
# task thread draws another) never see each other's settings.
_RENDER_LOCK = threading.Lock()

_RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    # DejaVu Sans is bundled with matplotlib, so the layout is measured with it everywhere; Verdana is the
    # browser fallback with the closest widths, so labels laid out for DejaVu still fit.
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Verdana"],
    "font.size": 9,
    "figure.titlesize": 10,
    "figure.titleweight": "bold",
    # Outlet and entity names may hold "$" ("US$", "Ca$h"): never read as mathtext.
    "text.parse_math": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": MUTED_COLOUR,
    "xtick.color": MUTED_COLOUR,
    "ytick.color": MUTED_COLOUR,
    "text.color": BASELINE_COLOUR,
    "axes.labelcolor": MUTED_COLOUR,
    "legend.frameon": False,
}

_NO_METADATA: dict[str, Any] = {"Creator": None, "Date": None, "Format": None, "Type": None}


def timeline_svg(
    points: Sequence[TimelinePoint], *, title: str, unit: str = "day", noun: tuple[str, str] = ("story", "stories")
) -> str:
    """Return a bar chart over time of ``points`` (stories per ``unit`` period) as an inline SVG string.

    Bars sit on the period they count (a week bar spans its seven days, a month bar its month), so gaps in the
    series show as gaps. The expected stories, where given, are drawn as a dashed baseline; flagged periods are
    drawn in a second colour with a marker and their count above the bar. ``unit`` is ``day``, ``week`` (periods
    start on Mondays) or ``month``; any other value raises ``ValueError``. ``noun`` (singular, plural) names what
    is counted in the axis label, the legend and the tooltips: the report's overview counts articles.
    """
    if unit not in UNITS:
        raise ValueError(f"unknown timeline unit {unit!r}; expected one of {', '.join(UNITS)}")
    import matplotlib
    from matplotlib.ticker import MaxNLocator

    ordered = sorted(points, key=lambda p: p[0])
    bar_notes: dict[str, tuple[str, bool]] = {}
    with _RENDER_LOCK, matplotlib.rc_context(_RC):
        figure, axes = _new_figure(7.5, 2.9, title)
        if not ordered:
            _draw_empty(axes)
            return _render(figure, kind="timeline", title=title, bars=bar_notes)
        spans = [_period_days(start, unit) for start, *_ in ordered]
        lefts = [start.toordinal() + 0.1 * days for (start, *_), days in zip(ordered, spans, strict=True)]
        widths = [0.8 * days for days in spans]
        heights = [max(0, int(stories)) for _, stories, _, _ in ordered]
        colours = [SPIKE_COLOUR if flagged else BAR_COLOUR for *_, flagged in ordered]
        bars = axes.bar(lefts, heights, width=widths, align="edge", color=colours, linewidth=0)
        for i, (patch, (start, stories, expected, flagged)) in enumerate(zip(bars.patches, ordered, strict=True)):
            patch.set_gid(f"bar-{i}")
            note = f"{_period_name(start, unit)}: {stories:,} {noun[0] if stories == 1 else noun[1]}"
            if expected is not None:
                note += f", expected {expected:,.1f}"
            if flagged:
                note += ", spike"
            bar_notes[f"bar-{i}"] = (note, flagged)
        expected_values = [p[2] for p in ordered]
        top = max([*heights, *(e for e in expected_values if e is not None), 1])
        if any(e is not None for e in expected_values):
            centres = [left + width / 2 for left, width in zip(lefts, widths, strict=True)]
            ys = [math.nan if e is None else float(e) for e in expected_values]
            (line,) = axes.plot(centres, ys, color=BASELINE_COLOUR, linewidth=1.2, linestyle=(0, (4, 2)))
            line.set_gid("baseline")
            line.set_label("expected")
        flagged_points = [(i, p) for i, p in enumerate(ordered) if p[3]]
        for i, (_, stories, _, _) in flagged_points:
            centre = lefts[i] + widths[i] / 2
            (marker,) = axes.plot([centre], [stories + 0.06 * top], marker="v", markersize=6, color=SPIKE_COLOUR)
            marker.set_gid(f"spike-{i}")
            label = axes.annotate(
                f"{stories:,}",
                (centre, stories + 0.06 * top),
                xytext=(0, 5),
                textcoords="offset points",
                ha="center",
                va="bottom",
                color=SPIKE_COLOUR,
                fontweight="bold",
            )
            label.set_gid(f"spike-label-{i}")
        axes.set_ylim(0, top * (1.3 if flagged_points else 1.1))
        first = ordered[0][0].toordinal()
        last = ordered[-1][0].toordinal() + spans[-1]
        axes.set_xlim(first - 0.02 * (last - first), last + 0.02 * (last - first))
        ticks, labels = _date_ticks(ordered[0][0], ordered[-1][0], unit)
        axes.set_xticks(
            [t.toordinal() + _period_days(t, unit) / 2 for t in ticks],
            labels=labels,
        )
        axes.tick_params(axis="x", length=0)
        axes.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        axes.set_ylabel(f"{noun[1]} per {unit}")
        handles = _legend_handles(any(e is not None for e in expected_values), bool(flagged_points), noun[1])
        if handles:
            figure.legend(handles=handles, loc="outside upper right", ncols=len(handles))
        return _render(figure, kind="timeline", title=title, bars=bar_notes)


def bars_svg(
    rows: Sequence[Mapping[str, Any]],
    *,
    title: str,
    label: str = "label",
    value: str = "n",
    limit: int = 12,
    width: float = 7.0,
) -> str:
    """Return horizontal bars of the first ``limit`` rows (in their order, top down) as an inline SVG string.

    Each bar is labelled with ``row[label]`` (cut to :data:`LABEL_CHARS` with an ellipsis) and ends with
    ``row[value]``; a missing value counts as 0. ``width`` is in inches: two charts side by side use about 4.6.
    """
    import matplotlib

    shown = list(rows)[: max(0, limit)]
    bar_notes: dict[str, tuple[str, bool]] = {}
    with _RENDER_LOCK, matplotlib.rc_context(_RC):
        figure, axes = _new_figure(width, 0.75 + 0.26 * max(len(shown), 1), title)
        if not shown:
            _draw_empty(axes)
            return _render(figure, kind="bars", title=title, bars=bar_notes)
        names = [str(row.get(label, "")) for row in shown]
        values = [_number(row.get(value)) for row in shown]
        positions = list(range(len(shown)))
        bars = axes.barh(positions, values, height=0.72, color=BAR_COLOUR, linewidth=0)
        for i, patch in enumerate(bars.patches):
            patch.set_gid(f"bar-{i}")
            bar_notes[f"bar-{i}"] = (f"{names[i]}: {_count(values[i])}", False)
        axes.set_yticks(positions, labels=[shorten(name) for name in names])
        axes.invert_yaxis()
        top = max([*values, 0.0]) or 1.0
        for i, n in enumerate(values):
            axes.annotate(_count(n), (n, i), xytext=(3, 0), textcoords="offset points", va="center", color=MUTED_COLOUR)
        axes.set_xlim(0, top * 1.12)  # room for the value at the end of the longest bar
        axes.xaxis.set_visible(False)
        axes.spines["bottom"].set_visible(False)
        axes.tick_params(axis="y", length=0)
        return _render(figure, kind="bars", title=title, bars=bar_notes)


def shorten(text: str, limit: int = LABEL_CHARS) -> str:
    """Return ``text`` on one line, cut to ``limit`` characters with an ellipsis when longer."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


# --------------------------------------------------------------------------------------------- dates


def _period_days(start: date, unit: str) -> int:
    """Return how many days the period starting on ``start`` spans (a month's own length for months)."""
    if unit == "day":
        return 1
    if unit == "week":
        return 7
    return calendar.monthrange(start.year, start.month)[1]


def _next_period(start: date, unit: str, steps: int) -> date:
    if unit == "month":
        months = start.year * 12 + start.month - 1 + steps
        return date(months // 12, months % 12 + 1, 1)
    return start + timedelta(days=steps * (7 if unit == "week" else 1))


def _period_name(start: date, unit: str) -> str:
    """Return the period as a reader names it: "3 Nov 2025", "week of 3 Nov 2025 (W45)", "Nov 2025"."""
    if unit == "month":
        return f"{_MONTHS[start.month]} {start.year}"
    day = f"{start.day} {_MONTHS[start.month]} {start.year}"
    return f"week of {day} (W{start.isocalendar().week:02d})" if unit == "week" else day


def _date_ticks(first: date, last: date, unit: str) -> tuple[list[date], list[str]]:
    """Return tick periods and their labels: at most :data:`MAX_DATE_LABELS`, the year shown when it changes.

    Days read "3 Nov", weeks "W45" over their Monday "3 Nov", months "Nov"; the first label and the first label
    of each new year carry the year on a last line, so a series across New Year cannot be misread.
    """
    if unit == "month":
        count = (last.year - first.year) * 12 + last.month - first.month + 1
    else:
        count = (last - first).days // (7 if unit == "week" else 1) + 1
    step = max(1, math.ceil(count / MAX_DATE_LABELS))
    if unit == "day" and step > 1:
        step = 7 * math.ceil(step / 7) if step > 3 else step  # a long daily series is labelled week by week
    ticks: list[date] = []
    labels: list[str] = []
    shown_year: int | None = None
    current = first
    while current <= last:
        if unit == "month":
            text, year = _MONTHS[current.month], current.year
        elif unit == "week":
            iso = current.isocalendar()
            text, year = f"W{iso.week:02d}\n{current.day} {_MONTHS[current.month]}", iso.year
        else:
            text, year = f"{current.day} {_MONTHS[current.month]}", current.year
        if year != shown_year:
            text += f"\n{year}"
            shown_year = year
        ticks.append(current)
        labels.append(text)
        current = _next_period(current, unit, step)
    return ticks, labels


# -------------------------------------------------------------------------------------------- drawing


def _new_figure(width: float, height: float, title: str) -> tuple[Figure, Axes]:
    """Return a figure (``width`` x ``height`` inches) on the SVG canvas with ``title`` at its top left."""
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasSVG(figure)  # the SVG canvas only: no GUI backend is ever selected
    figure.suptitle(title, x=0.01, ha="left")
    return figure, figure.add_subplot()


def _draw_empty(axes: Axes) -> None:
    axes.text(0.5, 0.5, "No data in this period.", ha="center", va="center", color=MUTED_COLOUR)
    axes.set_axis_off()


def _legend_handles(baseline: bool, spikes: bool, plural: str) -> list[Any]:
    from matplotlib.lines import Line2D

    handles: list[Any] = []
    if baseline or spikes:
        handles.append(Line2D([], [], color=BAR_COLOUR, linewidth=6, label=plural))
    if baseline:
        handles.append(Line2D([], [], color=BASELINE_COLOUR, linewidth=1.2, linestyle=(0, (4, 2)), label="expected"))
    if spikes:
        handles.append(
            Line2D([], [], color=SPIKE_COLOUR, marker="v", markersize=6, linewidth=6, label="spike (count above)")
        )
    return handles


def _render(figure: Figure, *, kind: str, title: str, bars: Mapping[str, tuple[str, bool]]) -> str:
    """Return ``figure`` as tidy inline SVG (see the module docstring); ids are prefixed per (kind, title).

    ``bars`` maps each bar's gid to its tooltip and whether it is a spike.
    """
    import io

    import matplotlib

    prefix = "chart-" + hashlib.blake2b(f"{kind}\0{title}".encode(), digest_size=5).hexdigest()
    buffer = io.StringIO()
    local: dict[RcKeyType, Any] = {"svg.hashsalt": prefix, "svg.id": prefix}
    with matplotlib.rc_context(local):
        figure.savefig(buffer, format="svg", metadata=_NO_METADATA)
    return _tidy_svg(buffer.getvalue(), prefix=prefix, title=title, bars=bars)


def _tidy_svg(document: str, *, prefix: str, title: str, bars: Mapping[str, tuple[str, bool]]) -> str:
    """Return the backend's SVG ``document`` ready to inline in HTML, deterministic and with unique ids."""
    root = ET.fromstring(document[document.index("<svg") :])  # noqa: S314 - our own renderer's output
    for element in root.iter():
        element.tag = element.tag.removeprefix(_SVG_NS)
        if _XLINK_HREF in element.attrib:
            element.set("href", element.attrib.pop(_XLINK_HREF))
        if "d" in element.attrib:
            element.set("d", " ".join(element.attrib["d"].split()))
    referenced = {m for e in root.iter() for m in _REF.findall(e.get("clip-path", ""))}
    referenced |= {e.get("href", "")[1:] for e in root.iter() if e.get("href", "").startswith("#")}
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == "metadata" or (child.tag == "defs" and all(c.tag == "style" for c in child)):
                parent.remove(child)  # a "*{stroke-linejoin…}" sheet would style the whole page: root attributes below
            elif child.tag == "clipPath":
                for shape in child:
                    if shape.tag == "rect":
                        _rect_to_path(shape)  # only bars are <rect>
    own = {*bars, "baseline"}
    for element in list(root.iter()):  # a list: _classify adds tooltips under the element being visited
        gid = element.get("id")
        if gid is not None and element is not root:
            if gid in referenced or gid in own or gid.startswith("spike-"):
                element.set("id", f"{prefix}-{gid}")
                _classify(element, gid, bars)
            else:
                del element.attrib["id"]  # matplotlib's running numbers ("text_3"): unused, and clash across charts
        if "clip-path" in element.attrib:
            element.set("clip-path", _REF.sub(lambda m: f"url(#{prefix}-{m.group(1)})", element.attrib["clip-path"]))
        href = element.get("href", "")
        if href.startswith("#"):
            element.set("href", f"#{prefix}-{href[1:]}")
    root.set("role", "img")
    root.set("stroke-linejoin", "round")
    root.set("stroke-linecap", "butt")
    heading = ET.Element("title")
    heading.text = title
    root.insert(0, heading)
    return ET.tostring(root, encoding="unicode")


def _classify(element: ET.Element, gid: str, bars: Mapping[str, tuple[str, bool]]) -> None:
    """Turn a bar's path into a ``<rect>`` with a tooltip, and name spike markers by class."""
    if gid.startswith("spike-label-"):
        element.set("class", "spike-label")
    elif gid.startswith("spike-"):
        element.set("class", "spike-marker")
    elif gid in bars:
        tooltip, spike = bars[gid]
        path = next((c for c in element if c.tag == "path"), None)
        if path is not None:
            _path_to_rect(path)
        note = ET.Element("title")
        note.text = tooltip
        element.insert(0, note)
        element.set("class", "bar spike" if spike else "bar")


def _corners(d: str) -> tuple[float, float, float, float] | None:
    numbers = [float(n) for n in _NUMBER.findall(d)]
    if len(numbers) != 8:
        return None
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


def _path_to_rect(path: ET.Element) -> None:
    corners = _corners(path.get("d", ""))
    if corners is None:
        return
    x, y, w, h = corners
    style = path.get("style", "")
    path.attrib.clear()
    path.tag = "rect"
    for name, number in (("x", x), ("y", y), ("width", w), ("height", h)):
        path.set(name, f"{number:.2f}".rstrip("0").rstrip("."))
    if style:
        path.set("style", style)


def _rect_to_path(rect: ET.Element) -> None:
    x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
    w, h = float(rect.get("width", 0)), float(rect.get("height", 0))
    rect.attrib.clear()
    rect.tag = "path"
    rect.set("d", f"M {x:g} {y:g} h {w:g} v {h:g} h {-w:g} z")


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def _count(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3g}"
