"""French regions from postal codes, for profiles and reports.

A French postal code starts with its département (two digits; three for
overseas), and each département belongs to one of the regions below.
Contacts elsewhere are grouped by country.
"""

from __future__ import annotations

REGION_DEPARTEMENTS: dict[str, list[str]] = {
    "Auvergne-Rhône-Alpes": ["01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"],
    "Bourgogne-Franche-Comté": ["21", "25", "39", "58", "70", "71", "89", "90"],
    "Bretagne": ["22", "29", "35", "56"],
    "Centre-Val de Loire": ["18", "28", "36", "37", "41", "45"],
    "Corse": ["20"],
    "Grand Est": ["08", "10", "51", "52", "54", "55", "57", "67", "68", "88"],
    "Hauts-de-France": ["02", "59", "60", "62", "80"],
    "Île-de-France": ["75", "77", "78", "91", "92", "93", "94", "95"],
    "Normandie": ["14", "27", "50", "61", "76"],
    "Nouvelle-Aquitaine": ["16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87"],
    "Occitanie": ["09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"],
    "Pays de la Loire": ["44", "49", "53", "72", "85"],
    "Provence-Alpes-Côte d'Azur": ["04", "05", "06", "13", "83", "84"],
    "Guadeloupe": ["971"],
    "Martinique": ["972"],
    "Guyane": ["973"],
    "La Réunion": ["974"],
    "Mayotte": ["976"],
}

DEPARTEMENT_REGION: list[tuple[str, str]] = [
    (code, region) for region, codes in REGION_DEPARTEMENTS.items() for code in codes
]

_FRANCE_NAMES = ["france", "fr", "fra", "frankrijk", "frankreich"]

# SQL expression (over a contacts row aliased `c`) giving the region; the
# département table is passed as the bound parameter $departements.
REGION_SQL = """
CASE
  WHEN (c.country IS NULL OR list_contains($france_names, lower(trim(c.country))))
       AND regexp_full_match(coalesce(c.postal_code, ''), '[0-9]{5}') THEN
    coalesce(
      (SELECT d.region FROM (SELECT unnest($departements, recursive := true)) d
       WHERE d.code = CASE WHEN c.postal_code LIKE '97%' THEN substr(c.postal_code, 1, 3)
                           ELSE substr(c.postal_code, 1, 2) END),
      'France (unknown département)')
  WHEN c.country IS NULL OR list_contains($france_names, lower(trim(c.country))) THEN NULL
  ELSE trim(c.country)
END
"""


def region_params() -> dict[str, object]:
    """The bound parameters ``REGION_SQL`` needs."""
    return {
        "departements": [{"code": code, "region": region} for code, region in DEPARTEMENT_REGION],
        "france_names": _FRANCE_NAMES,
    }
