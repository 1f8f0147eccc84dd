"""Column headers each emailing tool's importer expects.

Only the fields an importer maps by itself are renamed; other columns keep
their crmseg name (Brevo's attributes are upper-case, so Brevo gets them
upper-cased). The email column always comes first, as every importer wants.

- Mailchimp (Audience > Import contacts): ``Email Address``, ``First Name``,
  ``Last Name``, ``Phone Number``.
- Brevo (Contacts > Import): ``EMAIL``, ``FIRSTNAME``, ``LASTNAME``, ``SMS``
  (an international number with its ``+``: our E.164 form).
- Mailjet (Contacts > Add contacts): ``email``, ``firstname``, ``name``,
  ``country`` (its default contact properties).
"""

from __future__ import annotations

import polars as pl

from cli.errors import InputError

PRESET_HEADERS: dict[str, dict[str, str]] = {
    "mailchimp": {"email": "Email Address", "first_name": "First Name", "last_name": "Last Name",
                  "phone": "Phone Number"},
    "brevo": {"email": "EMAIL", "first_name": "FIRSTNAME", "last_name": "LASTNAME", "phone": "SMS"},
    "mailjet": {"email": "email", "first_name": "firstname", "last_name": "name", "country": "country"},
}


def preset_columns(columns: list[str]) -> list[str]:
    """The export's columns with ``email`` first (added when missing)."""
    return ["email"] + [c for c in columns if c != "email"]


def preset_headers(columns: list[str], preset: str) -> dict[str, str]:
    """The header each column gets under ``preset``; two columns may not share one.

    >>> preset_headers(["email", "phone", "mobile"], "brevo")
    {'email': 'EMAIL', 'phone': 'SMS', 'mobile': 'MOBILE'}
    """
    headers = PRESET_HEADERS[preset]
    upper = preset == "brevo"
    renamed = {c: headers.get(c, c.upper() if upper else c) for c in columns}
    seen: dict[str, str] = {}
    for column, header in renamed.items():
        if header in seen:
            raise InputError(f"preset `{preset}`: the columns `{seen[header]}` and `{column}` would both be "
                             f"headed `{header}`; leave one out of the segment's export.columns.")
        seen[header] = column
    return renamed


def apply_preset(frame: pl.DataFrame, preset: str) -> pl.DataFrame:
    """Rename (and order) the columns of ``frame`` for ``preset``.

    >>> apply_preset(pl.DataFrame({"first_name": ["Anne"], "email": ["a@b.fr"]}), "brevo").columns
    ['EMAIL', 'FIRSTNAME']
    """
    ordered = preset_columns(frame.columns) if "email" in frame.columns else frame.columns
    frame = frame.select(ordered)
    return frame.rename(preset_headers(frame.columns, preset))
