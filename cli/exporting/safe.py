"""Formula neutralisation for spreadsheet-bound cells (CSV, Excel).

A text cell that starts with ``=``, ``+``, ``-``, ``@``, tab, carriage
return or line feed can run as a formula when the file is opened in a
spreadsheet. Such cells get a leading apostrophe (the OWASP advice). Typed
values pass unchanged: numbers and dates are not text, and a validated
E.164 phone (``+33612345678``) in a phone column stays as it is so that
lists still load into emailing tools.
"""

from __future__ import annotations

import re

import polars as pl

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_DANGEROUS_PATTERN = r"^[=+\-@\t\r\n]"
E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"
_E164 = re.compile(E164_PATTERN)


def neutralise_text(value: str | None, *, phone: bool = False) -> str | None:
    """``value`` with a leading apostrophe when a spreadsheet could read it as a formula.

    >>> neutralise_text("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise_text("+33612345678", phone=True)
    '+33612345678'
    """
    if value is None or not value.startswith(DANGEROUS_START):
        return value
    if phone and _E164.match(value):
        return value
    return "'" + value


def neutralise_frame(frame: pl.DataFrame, phone_columns: set[str] | frozenset[str] = frozenset(),
                     list_separator: str = "|") -> pl.DataFrame:
    """Lists joined into text, then every text cell neutralised (E.164 phones kept in phone columns)."""
    expressions = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if isinstance(dtype, pl.List):
            column = column.cast(pl.List(pl.String)).list.join(list_separator)
            dtype = pl.String
        if dtype != pl.String:
            continue
        risky = column.str.contains(_DANGEROUS_PATTERN)
        if name in phone_columns:
            risky = risky & ~column.str.contains(E164_PATTERN)
        expressions.append(pl.when(risky).then(pl.lit("'") + column).otherwise(column).alias(name))
    return frame.with_columns(expressions) if expressions else frame
