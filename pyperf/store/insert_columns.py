"""A batch's columns in the form clickhouse-connect writes fastest.

The per-process tables reach the writer as numpy arrays (pyperf/pipeline/writer.py);
a minute of `sched_process` on a busy host is ~18 000 rows of 66 values, 64 of them
in two 32-slot histograms. Made Python lists, every value became an object and
the client wrote them one at a time (the flush's largest user-space part,
docs/performance.md). Here a numeric column stays an array of exactly the
column's type, which the client copies at once, and a histogram column (an
Array of a plain number, one row per array) is written as its offsets and its
values in two copies. Anything else — text, nullable, datetimes, a value that
does not fit the column's type — goes as Python values, as before, so the
client's own checks and errors still apply."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
from clickhouse_connect.datatypes.container import Array
from clickhouse_connect.datatypes.numeric import Float, IntBase
from clickhouse_connect.datatypes.registry import get_from_name

_DATETIME64 = re.compile(r"(?:Nullable\()?DateTime64\((\d)")


def for_insert(values, col_type: str):
    """`values` (a list, or a numpy array) as the client should get them for a
    column of type `col_type`."""
    if "DateTime" in col_type:
        return _datetime_ticks(values, col_type)
    if isinstance(values, np.ndarray):
        ready = _numpy_ready(values, get_from_name(col_type))
        return ready if ready is not None else values.tolist()
    return values


def _datetime_ticks(values, col_type: str):
    """Epoch seconds (floats, as probes stamp rows) into the column's ticks, as one
    numpy operation; anything else (datetimes, a nullable column's None) as given."""
    if len(values) == 0:
        return values
    if not isinstance(values, np.ndarray):
        kinds = set(map(type, values))
        if not kinds <= {float, int}:
            return [_utc(v) if isinstance(v, float) else v for v in values] if float in kinds else values
    seconds = np.asarray(values, dtype=np.float64)
    # to the microsecond first, then truncated to the column's precision: what a
    # datetime of the same float would store
    whole = np.floor(seconds)
    micros = whole.astype(np.int64) * 10**6 + np.round((seconds - whole) * 1e6).astype(np.int64)
    m = _DATETIME64.match(col_type)
    precision = min(int(m.group(1)), 6) if m else 0
    return (micros // 10 ** (6 - precision)).tolist()


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)


def _plain_dtype(ch_type) -> np.dtype | None:
    """The numpy type a plain (not nullable, not low-cardinality) number column is
    written from, else None."""
    if isinstance(ch_type, (IntBase, Float)) and not ch_type.nullable and not ch_type.low_card:
        return np.dtype(ch_type.np_type)
    return None


def _fits(values: np.ndarray, dtype: np.dtype) -> bool:
    """Whether every value converts to `dtype` unchanged, as the client would have
    written it from Python values (out of range: the client's error, not a wrap)."""
    if values.dtype.kind == "f":
        return dtype.kind == "f"
    if dtype.kind == "f" or values.size == 0 or np.can_cast(values.dtype, dtype):
        return True
    info = np.iinfo(dtype)
    return int(values.min()) >= info.min and int(values.max()) <= info.max


def _numpy_ready(values: np.ndarray, ch_type):
    if values.dtype.kind not in "iuf":
        return None
    if values.ndim == 1:
        dtype = _plain_dtype(ch_type)
    elif values.ndim == 2 and isinstance(ch_type, Array) and not ch_type.nullable:
        dtype = _plain_dtype(ch_type.element_type)
    else:
        return None
    if dtype is None or not _fits(values, dtype):
        return None
    return np.ascontiguousarray(values, dtype=dtype)


_write_array_column = Array.write_column_data


def _write_array_rows(self, column, dest: bytearray, ctx) -> None:
    """Array.write_column_data for a 2-D array of the element's own numpy type (what
    _numpy_ready makes): the offsets and the values, each in one copy. The client
    iterates row by row and value by value otherwise. Same bytes (test_store.py)."""
    if isinstance(column, np.ndarray) and column.ndim == 2 and _plain_dtype(self.element_type) == column.dtype:
        rows, width = column.shape
        dest += (np.arange(1, rows + 1, dtype="<u8") * width).tobytes()
        dest += np.ascontiguousarray(column).tobytes()
        return
    _write_array_column(self, column, dest, ctx)


Array.write_column_data = _write_array_rows
