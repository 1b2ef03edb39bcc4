"""A learner's CSV file -> its numeric columns, one of which is the signal to convolve.

Spreadsheets write numbers in many ways: a header row or none; ``;`` (Brazilian Excel),
``,``, tab or space separators; decimal commas; a time or index column first; Latin-1
from old Excel exports. ``read_csv`` takes them all and refuses, with a message that
points at the cell, what is not a signal. numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.maths.signals import MAX_LENGTH, MIN_LENGTH, SignalError

MAX_ROWS = MAX_LENGTH
MAX_BYTES = 64 * 2 ** 20


@dataclass
class CsvTable:
    """The numeric columns of a CSV file, in file order, and the one worth showing first."""

    columns: dict[str, np.ndarray]
    default: str
    header: bool


def _decode(data) -> str:
    if isinstance(data, str):
        return data
    if hasattr(data, "read"):
        data = data.read()
    data = bytes(data)
    if len(data) > MAX_BYTES:
        raise SignalError("signals.error.csv_too_big", mb=len(data) // 2 ** 20, max_mb=MAX_BYTES // 2 ** 20)
    if b"\x00" in data[:4096]:
        raise SignalError("signals.error.csv_binary")   # an image or a spreadsheet, not text
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")   # old Excel exports in Brazil


def _separator(lines: list[str]) -> str | None:
    """``;`` (Brazilian Excel), tab, ``,``, or None: numbers separated by spaces / one column."""
    sample = lines[:20]
    for sep in (";", "\t", ","):
        if any(sep in ln for ln in sample):
            return sep
    return None


def _number(cell: str) -> float | None:
    """The cell as a float, or None when it is not a number at all."""
    text = cell.strip().strip('"').strip("'").strip().replace("\u2212", "-")
    try:
        return float(text)
    except ValueError:
        return None


def _is_axis(values: np.ndarray) -> bool:
    """An index or time column (0, 1, 2, ... or 0.00, 0.01, ...): evenly spaced and increasing."""
    steps = np.diff(values)
    return len(values) > 2 and bool(np.all(steps > 0)) and bool(np.allclose(steps, steps[0], rtol=1e-6))


def read_csv(data) -> CsvTable:
    """Every numeric column of an uploaded CSV (bytes, text or file-like).

    Handles a header row or none, ``;``/``,``/tab/space separators, and decimal
    commas (``0,5`` with ``;`` separators, as Brazilian spreadsheets write it).
    Refuses, with a message, empty files, files without a numeric column,
    more than ``MAX_ROWS`` rows and non-finite values (nan, inf).
    """
    lines = [ln for ln in _decode(data).splitlines() if ln.strip()]
    if not lines:
        raise SignalError("signals.error.csv_empty")
    if len(lines) > MAX_ROWS + 1:
        raise SignalError("signals.error.csv_too_long", rows=len(lines), max=MAX_ROWS)
    sep = _separator(lines)
    decimal_comma = sep != ","
    rows = [ln.split(sep) if sep else ln.split() for ln in lines]
    if decimal_comma:
        rows = [[c.replace(",", ".") for c in row] for row in rows]
    width = max(len(r) for r in rows)
    first = rows[0]
    header = any(c.strip() and _number(c) is None for c in first)
    if header:
        names = [(first[j].strip().strip('"').strip() if j < len(first) else "") or str(j + 1)
                 for j in range(width)]
        rows = rows[1:]
    else:
        names = [str(j + 1) for j in range(width)]
    names = _unique(names)
    if not rows:
        raise SignalError("signals.error.csv_empty")
    row0 = 2 if header else 1   # file line of the first data row, for messages

    columns, first_problem = {}, None
    for j, name in enumerate(names):
        cells = [r[j] if j < len(r) else "" for r in rows]
        values = [_number(c) for c in cells]
        bad = next((i for i, v in enumerate(values) if v is None), None)
        if bad is not None:
            first_problem = first_problem or (row0 + bad, name, cells[bad].strip()[:40])
            continue
        arr = np.asarray(values, dtype=np.float64)
        if not np.isfinite(arr).all():
            i = int(np.flatnonzero(~np.isfinite(arr))[0])
            raise SignalError("signals.error.csv_not_finite", row=row0 + i, column=name, value=cells[i].strip())
        columns[name] = arr
    if not columns:
        row, name, value = first_problem
        if value:
            raise SignalError("signals.error.csv_not_numeric", row=row, column=name, value=value)
        raise SignalError("signals.error.csv_missing", row=row, column=name)
    if len(rows) < MIN_LENGTH:
        raise SignalError("signals.error.csv_too_short", rows=len(rows), min=MIN_LENGTH)
    # The first column that is not just a time axis is the signal worth showing.
    default = next((n for n, v in columns.items() if not _is_axis(v)), next(iter(columns)))
    return CsvTable(columns, default, header)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def from_csv(data, column: str | int | None = None) -> tuple[np.ndarray, str]:
    """(signal, column name) from an uploaded CSV; ``column`` is a name or 0-based index."""
    table = read_csv(data)
    if column is None:
        name = table.default
    elif isinstance(column, (int, np.integer)):
        names = list(table.columns)
        if not 0 <= column < len(names):
            raise SignalError("signals.error.csv_no_column", column=column, columns=", ".join(names))
        name = names[column]
    else:
        name = str(column)
        if name not in table.columns:
            raise SignalError("signals.error.csv_no_column", column=name, columns=", ".join(table.columns))
    return table.columns[name], name
