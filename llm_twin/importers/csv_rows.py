"""CSV rows of an export, one at a time, where a bad row is reported and skipped instead of ending the file.

The standard `csv` module raises on a cell larger than `csv.field_size_limit()` and stops the whole
reader; a LinkedIn or Substack export would then lose every row after (and with) it. Here the parser's
limit is raised to the size of the (already bounded) file, so every row parses and the reader stays in
sync, and then each row is checked: a cell over `max_cell_chars`, a row with more or fewer fields than the
header, or a row the parser still rejects becomes a `RowError` naming the file, the row and the line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from llm_twin.crawlers.errors import CollectError

MAX_CELL_CHARS = 131_072  # the csv module's default field_size_limit


@dataclass
class Row:
    number: int  # 1 is the header, so the first data row is 2 (what a spreadsheet shows)
    line: int  # last physical line of the row (cells may span lines)
    values: dict[str, str]


@dataclass
class RowError:
    number: int
    line: int
    error: CollectError


def _raise_parser_limit(size: int) -> None:
    # Process-wide setting; it is only ever raised (never lowered), and files are bounded before parsing.
    if csv.field_size_limit() < size:
        csv.field_size_limit(size)


def csv_rows(text: str, name: str, max_cell_chars: int = MAX_CELL_CHARS) -> Iterator[Row | RowError]:
    """Rows of a CSV file with a header, as `Row`s or `RowError`s; blank lines are ignored."""
    _raise_parser_limit(len(text) + 1)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise CollectError("bad_export", f"{name}: the header row cannot be parsed: {exc}") from exc
    if not header:
        return
    header = [h.strip() for h in header]
    number = 1
    while True:
        number += 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield RowError(number, reader.line_num, CollectError("bad_row", f"{name} row {number} (line "
                                                                            f"{reader.line_num}): {exc}"))
            continue
        if not values:
            number -= 1
            continue
        where = f"{name} row {number} (line {reader.line_num})"
        if len(values) != len(header) and any(v.strip() for v in values[len(header):]) or len(values) < len(header):
            yield RowError(number, reader.line_num, CollectError(
                "bad_row", f"{where} has {len(values)} fields, the header has {len(header)}; skipped"))
            continue
        big = next((i for i, v in enumerate(values) if len(v) > max_cell_chars), None)
        if big is not None:
            column = header[big] if big < len(header) else f"#{big + 1}"
            yield RowError(number, reader.line_num, CollectError(
                "bad_row", f"{where}: cell {column!r} has {len(values[big])} characters, over the "
                           f"{max_cell_chars} limit; skipped"))
            continue
        yield Row(number, reader.line_num, dict(zip(header, values, strict=False)))
