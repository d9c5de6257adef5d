"""Charts for the reports, as PNG images a phone shows well: the purchases' total of each day of a period, and the
members by age band.

Drawn with matplotlib's Agg canvas on a figure of its own (no pyplot, no global state: a worker thread may draw
one), in the bundled Vazirmatn font (SIL Open Font License, texts/fonts/OFL.txt), which has Persian and Latin
letters. matplotlib 3.11 shapes text and lays it out in its direction itself (libraqm), so Persian labels go in as
written: reshaping them before (arabic-reshaper, python-bidi) would reverse them a second time. In Persian the
numbers are in Persian digits, the days are Jalali and run from right to left; in English they are Gregorian and
run from left to right.
"""

from __future__ import annotations

import io
from datetime import date
from math import ceil
from pathlib import Path

import jdatetime
from aiogram.utils.i18n import gettext as _
from babel import dates as babel_dates
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from loyalty.numerals import format_number, local_digits
from loyalty.reports import Day
from texts.languages import language
from texts.money import unit_name

FONT_FILE = Path(__file__).parent / "fonts" / "Vazirmatn-Regular.ttf"
font_manager.fontManager.addfont(FONT_FILE)
FONT_NAME = font_manager.FontProperties(fname=FONT_FILE).get_name()  # named on each text: no global rcParams
SIZE_INCHES, DPI = (8, 5), 150  # 1200 × 750 pixels: the width a phone shows a photo at, without zooming
MOST_DAY_LABELS = 8
BAR_COLOR = "#2e7d6b"


def day_label(day: date, code: str) -> str:
    """A day on the axis: ۱ آذر in Persian, Nov 22 in English."""
    if code == "fa":
        return local_digits(jdatetime.date.fromgregorian(date=day, locale="fa_IR").strftime("%-d %B"), "fa")
    return babel_dates.format_date(day, "MMM d", locale=code)


def sales_chart(days: list[Day], unit: str) -> bytes:
    """The purchases' total of each day, as a bar chart in the reply's language (a PNG)."""
    code = language()
    title = _("report.chart_sales").format(unit=unit_name(unit))
    labels = [day_label(day.day, code) for day in days]
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
    if code == "fa":
        axes.invert_xaxis()
        axes.yaxis.tick_right()
    image = io.BytesIO()
    figure.savefig(image, format="png")
    return image.getvalue()
