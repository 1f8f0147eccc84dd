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
    >>> normalise_email('"Dupont, Marie" <Marie@Example.fr>')
    'marie@example.fr'
    """
    if value is None:
        return None
    # Several values joined by ` ::: ` (Google Contacts): the first.
    text = str(value).split(" ::: ")[0].strip()
    if text.endswith(">") and "<" in text[:-1]:
        # A display name (`Marie Dupont <marie@example.fr>`, as mail programs copy it): the address.
        text = text[text.rindex("<") + 1 : -1]
    text = text.strip().strip("<>").strip()
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
    text = str(value).split(" ::: ")[0].strip()  # Google Contacts' ` ::: `: the first number
    if not text:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    if region.upper() == "FR" and not text.startswith("+"):
        overseas = overseas_region(text)
        if overseas is not None:
            found = _parse_valid(text, overseas)
            if found is not None:
                return found
    found = _parse_valid(text, region.upper())
    if found is None and region.upper() == "FR" and not text.startswith("+"):
        # A national number of a French overseas region (0693 ... Réunion, 0690 ... Guadeloupe) is
        # written like a mainland one but is invalid for FR: try those regions before giving up.
        for overseas in FRENCH_OVERSEAS_REGIONS:
            found = _parse_valid(text, overseas)
            if found is not None:
                break
    return found


# Regions that share France's national dialling habits (a leading 0) but have their own country codes.
FRENCH_OVERSEAS_REGIONS = ("RE", "YT", "GP", "MQ", "GF", "BL", "MF", "PM")


# French national prefixes (ARCEP) of the overseas regions, some of which phonenumbers would
# otherwise read as mainland numbers (0596 ..., 0269 ...).
FRENCH_OVERSEAS_PREFIXES = {
    "262": "RE", "263": "RE", "692": "RE", "693": "RE", "269": "YT", "639": "YT",
    "590": "GP", "690": "GP", "691": "GP", "594": "GF", "694": "GF", "596": "MQ", "696": "MQ", "697": "MQ",
}
# The same, as a pattern over a national significant number (for the SQL fast path).
FRENCH_OVERSEAS_NSN = "(" + "|".join(sorted(FRENCH_OVERSEAS_PREFIXES)) + ")[0-9]{6}"


def overseas_region(text: str) -> str | None:
    """The overseas region of a French national number written with its 0 (``0693 61 26 53`` -> ``RE``), else None."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) != 10 or not digits.startswith("0") or len(digits) != len(text.translate(_SEPARATORS)):
        return None
    return FRENCH_OVERSEAS_PREFIXES.get(digits[1:4])


_SEPARATORS = str.maketrans("", "", " .-()/\u00a0")


def _parse_valid(text: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
