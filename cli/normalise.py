"""Normalising one value at a time: emails and phone numbers.

Import normalises whole columns set-wise (``cli/importing``) with rules that
give the same results; these single-value functions serve look-ups by a
user-typed email (``contacts show``, ``gdpr``, ``segment explain``) and
the tests that pin that equivalence.
"""

from __future__ import annotations

import phonenumbers


def idna_domain(domain: str) -> str:
    """The ASCII (IDNA) form of a domain, lower-cased; unchanged when it cannot be encoded."""
    domain = domain.strip().lower().rstrip(".")
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def normalise_email(value: str | None) -> str | None:
    """Trim, lower-case and IDNA-encode the domain; None for an empty value.

    >>> normalise_email("  Marie.DUPONT@Gmail.com ")
    'marie.dupont@gmail.com'
    >>> normalise_email("anne@exämple.fr")
    'anne@xn--exmple-cua.fr'
    """
    if value is None:
        return None
    text = str(value).strip().strip("<>").strip()
    if not text:
        return None
    if text.lower().startswith("mailto:"):
        text = text[7:]
    local, at, domain = text.rpartition("@")
    if not at:
        return text.lower()
    return f"{local.lower()}@{idna_domain(domain)}"


def normalise_phone(value: str | None, region: str = "FR") -> str | None:
    """E.164 form of ``value`` read in ``region``; None when it is not a possible number.

    >>> normalise_phone("06 12 34 56 78")
    '+33612345678'
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
