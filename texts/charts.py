"""Charts for the reports, as PNG images a phone shows well: the purchases' total of each day of a period, and the
purchases by weekday and hour (a heatmap), the members by age band.

Drawn with matplotlib's Agg canvas on a figure of its own (no pyplot, no global state: a worker thread may draw
one), in the bundled Vazirmatn font (SIL Open Font License, texts/fonts/OFL.txt), which has Persian and Latin
letters. matplotlib 3.11 shapes text and lays it out in its direction itself (libraqm), so Persian labels go in as
written: reshaping them before (arabic-reshaper, python-bidi) would reverse them a second time. In Persian the
numbers are in Persian digits, the days are Jalali and run from right to left; in English they are Gregorian and
run from left to right. The heatmap's week starts on Saturday in Persian and on Monday in English.
"""

from __future__ import annotations

import io
from math import ceil
from pathlib import Path

from aiogram.utils.i18n import gettext as _
from matplotlib import colormaps, font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from loyalty.calendar import format_day_month
from loyalty.numerals import format_number, local_digits
from loyalty.reports import Day, Hours
from texts.languages import language
from texts.money import unit_name
from texts.weekdays import week_order, weekday_name

FONT_FILE = Path(__file__).parent / "fonts" / "Vazirmatn-Regular.ttf"
font_manager.fontManager.addfont(FONT_FILE)
FONT_NAME = font_manager.FontProperties(fname=FONT_FILE).get_name()  # named on each text: no global rcParams
SIZE_INCHES, DPI = (8, 5), 150  # 1200 × 750 pixels: the width a phone shows a photo at, without zooming
MOST_DAY_LABELS = 8
BAR_COLOR = "#2e7d6b"
HEAT_COLORS = "Greens"
HOUR_LABEL_STEP = 3
HEAT_MARGINS = {  # by right to left: the weekdays on the left in English, on the right in Persian
    False: {"left": 0.07, "right": 0.99, "top": 0.91, "bottom": 0.07},
    True: {"left": 0.01, "right": 0.9, "top": 0.91, "bottom": 0.07},
}


def sales_chart(days: list[Day], unit: str) -> bytes:
    """The purchases' total of each day, as a bar chart in the reply's language (a PNG)."""
    code = language()
    title = _("report.chart_sales").format(unit=unit_name(unit))
    labels = [format_day_month(day.day, code) for day in days]
    return bar_chart(labels, [day.total for day in days], title, code)


def members_chart(bands: list[str], counts: list[int]) -> bytes:
    """The members in each age band (named `bands`), as a bar chart in the reply's language (a PNG)."""
    return bar_chart(bands, counts, _("report.chart_members"), language())


def bar_chart(labels: list[str], values: list[int], title: str, code: str) -> bytes:
    """Bars of `values` under `title`, every few bars labelled, right to left in Persian; a PNG. Safe to draw in
    a worker thread: the figure is its own and the font is named on each text, no global settings change."""
    figure = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(values)))
    axes.bar(positions, values, color=BAR_COLOR)
    step = ceil(len(labels) / MOST_DAY_LABELS)
    axes.set_xticks(positions[::step], labels[::step])
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole numbers only: a few members make no 0.5
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _position: format_number(int(value), code)))
    axes.set_ylim(bottom=0, top=max([*values, 1]) * 1.1)
    axes.tick_params(labelfontfamily=FONT_NAME, labelsize=12)
    axes.set_title(title, fontfamily=FONT_NAME, fontsize=16)
    axes.spines[["top", "left" if code == "fa" else "right"]].set_visible(False)
    axes.grid(axis="y", alpha=0.3)
    return _png(figure, axes, code)


def hours_chart(busy: Hours) -> bytes:
    """The purchases by weekday and hour, as a heatmap in the reply's language (a PNG)."""
    code = language()
    order = week_order(code)
    rows = [busy.counts[weekday] for weekday in order]
    labels = [weekday_name(weekday, code, "wide" if code == "fa" else "abbreviated") for weekday in order]
    return heatmap(rows, labels, _("report.chart_hours"), code)


def heatmap(rows: list[list[int]], labels: list[str], title: str, code: str) -> bytes:
    """Rows of 24 hourly counts (labelled) as coloured cells, each count written in its cell, the hours right to left
    in Persian; a PNG. Safe to draw in a worker thread, as `bar_chart`. Its margins are fixed (the weekdays' side
    wider), not laid out by matplotlib: with 168 texts in the cells, that would draw the chart twice."""
    figure = Figure(figsize=SIZE_INCHES, dpi=DPI)
    figure.subplots_adjust(**HEAT_MARGINS[code == "fa"])
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    colors = colormaps[HEAT_COLORS]
    most = max([*map(max, rows), 1])
    axes.imshow(rows, cmap=colors, vmin=0, vmax=most, aspect="auto")
    for row, counts in enumerate(rows):
        for hour, count in enumerate(counts):
            if count:
                shade = "white" if count > most / 2 else "black"
                text = format_number(count, code)
                axes.text(hour, row, text, ha="center", va="center", color=shade, fontfamily=FONT_NAME, fontsize=8)
    hours = list(range(0, 24, HOUR_LABEL_STEP))
    axes.set_xticks(hours, [local_digits(str(hour), code) for hour in hours])
    axes.set_yticks(range(len(labels)), labels)
    axes.tick_params(labelfontfamily=FONT_NAME, labelsize=12, length=0)
    axes.set_title(title, fontfamily=FONT_NAME, fontsize=16)
    for side in axes.spines.values():
        side.set_visible(False)
    return _png(figure, axes, code)


def _png(figure: Figure, axes: Axes, code: str) -> bytes:
    """The chart as a PNG; in Persian it runs right to left, its numbers' axis on the right."""
    if code == "fa":
        axes.invert_xaxis()
        axes.yaxis.tick_right()
    image = io.BytesIO()
    figure.savefig(image, format="png")
    return image.getvalue()
