"""Fuzzy duplicate detection (SPEC §4): blocking, then rapidfuzz scoring.

Work stays near-linear: each contact emits a few blocking keys and only
contacts sharing a key are compared. The keys are the phone; the birth date
with the postal code; the postal code with the 2-letter prefixes of all name tokens; the postal
code with the house number and the first letter of the street's last word;
the birth date with each name token's 3-letter prefix. Keys are built from
the sorted name tokens, so swapped first and last names share them, and a
typo rarely hits the first letters of both tokens. A key shared by more than
``MAX_BLOCK`` contacts is skipped (it says nothing).

Candidate pairs are scored column-wise with ``rapidfuzz.process.cpdist``
(all pairs at once, in C, on every core):

- name: accents, case and punctuation dropped, then the best ``fuzz.ratio``
  of "first last" against "first last" and against "last first" (a swap
  scores as equal; sorting tokens instead would let a typo in a first letter
  reorder them);
- address: the normalised street, and 0 when both postal codes are known
  and differ;
- phone: equal 1, one digit apart 0.5, else 0;
- birth date: equal 1, day and month swapped 0.8, one part different 0.5,
  else -1 (two real, different dates count against).

Postal codes are compared without spaces or case (``1017 GA`` is ``1017ga``).
Names lose a leading civility (``Mme``, ``M.``, ``Monsieur``, ...) and streets
spell out the usual abbreviations (``av.``, ``bd``, ``pl.``, ``st``, ...), so
``Mme Claire`` is ``Claire`` and ``5 av. Foch`` is ``5 avenue Foch``.

Name and street ratios are sharpened (``1 - 2.5 × distance``, street ``× 3``): a one-letter
typo keeps most of the weight, while two different first names with the
same surname (a household) keep none. Some first names differ by one letter
between spouses or siblings (``Michel``/``Michèle``, ``Pascal``/``Pascale``),
and a household shares its address and phone: a pair whose first names or
genders differ, with no equal birth date to say it is one person, is scored
at most just under ``auto_merge_threshold``, so it waits for review. Organisations
(kind ``organisation``) are compared with organisations only, by their name without legal
forms and articles, words sorted. A first name
written as the other's initials (``J.-P.``, ``JP`` for ``Jean-Pierre``) with the same surname
counts as a name similarity of 0.85; a surname changed by a marriage (one first name and birth
date, one phone or address, a surname that scores nothing) is lifted to the review threshold,
never above it. The score is the weighted mean of the
field similarities over the fields both contacts have (a field missing on
either side counts neither for nor against); a pair is scored only when both
have a name and at least one more field in common, because a name alone
does not identify anyone.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from cli.settings import DuplicateSettings

MAX_BLOCK = 200
CHUNK = 1_000_000  # pairs scored at a time
SHARPNESS = 2.5
STREET_SHARPNESS = 3.0
MATCHED_AT = 0.7  # a field "agrees" at or above this (sharpened) similarity
FIELDS = ("name", "address", "phone", "birth_date")

# Below the auto-merge threshold by this much: the highest score of a pair that may be a household.
HOUSEHOLD_MARGIN = 0.01

# Names and streets: no accents, lower case, the usual punctuation as spaces (much cheaper than
# a regular expression, and names and streets hold few other symbols).
_NAME_NORM = "nullif(trim(translate(lower(strip_accents({x})), '-''.,_/()', '        ')), '')"
# A civility typed into a name cell (``Mme Claire``), dropped from the normalised name.
_CIVILITY = r"^(m|mr|mme|mmes|mlle|mrs|ms|monsieur|madame|mademoiselle|dr|dhr|mevr|mevrouw|meneer|herr|frau) +"
_PERSON_NORM = "nullif(regexp_replace(" + _NAME_NORM + ", '" + _CIVILITY + "', ''), '')"
# Street-type abbreviations of French addresses, spelled out word by word.
STREET_WORDS = {
    "r": "rue", "av": "avenue", "ave": "avenue", "bd": "boulevard", "bld": "boulevard", "blvd": "boulevard",
    "boul": "boulevard", "pl": "place", "rte": "route", "chem": "chemin", "ch": "chemin", "imp": "impasse",
    "all": "allee", "sq": "square", "fbg": "faubourg", "fg": "faubourg", "crs": "cours", "pass": "passage",
    "res": "residence", "st": "saint", "ste": "sainte",
}
# Words an organisation's name is written with or without (legal forms, articles): left out, and
# the rest sorted, so `ASSOCIATION LES AMIS` and `Les Amis (association)` are both `amis`. Constants.
ORG_WORDS = (
    "association", "asso", "assoc", "asbl", "aisbl", "vzw", "vereniging", "stichting", "sarl", "sas", "sasu",
    "sa", "eurl", "sci", "scop", "snc", "bv", "nv", "vof", "ltd", "inc", "gmbh", "ev",
    "les", "le", "la", "l", "de", "des", "du", "d", "et", "the", "of", "and", "het", "van", "en",
)
_ORG_NORM = (
    "nullif(array_to_string(list_sort(list_filter(string_split(" + _NAME_NORM.replace("{x}", "organisation")
    + ", ' '), lambda t: t <> '' AND NOT list_contains(["
    + ", ".join(f"'{w}'" for w in ORG_WORDS) + "], t))), ' '), '')"
)
_STREET_MAP = "MAP {" + ", ".join(f"'{k}': '{v}'" for k, v in STREET_WORDS.items()) + "}"
_STREET_NORM = (
    "nullif(array_to_string(list_transform(list_filter(string_split(" + _NAME_NORM + ", ' '), lambda t: t <> ''), "
    "lambda t: coalesce(" + _STREET_MAP + "[t], t)), ' '), '')"
)

_FEATURES = (
    """
    SELECT id AS pos, id,
           nullif(concat_ws(' ', first_n, last_n), '') AS first_last,
           nullif(concat_ws(' ', last_n, first_n), '') AS last_first,
           tokens, street, phone, birth_date, postal_code, first_n, last_n, gender, kind
    FROM (
        SELECT *, list_sort(list_filter(string_split(concat_ws(' ', first_n, last_n), ' '), lambda t: t <> ''))
                  AS tokens
        FROM (
            -- Normalised once here; aliases reused in the same SELECT would be computed again.
            SELECT id, phone, birth_date, nullif(upper(replace(postal_code, ' ', '')), '') AS postal_code, gender,
                   """
    + "CASE WHEN kind = 'organisation' THEN " + _ORG_NORM + " ELSE " + _PERSON_NORM.replace("{x}", "first_name")
    + """ END AS first_n,
                   CASE WHEN kind = 'organisation' THEN NULL ELSE """
    + _PERSON_NORM.replace("{x}", "last_name")
    + """ END AS last_n, coalesce(kind, 'person') AS kind,
                   """
    + _STREET_NORM.replace("{x}", "street")
    + """ AS street
            FROM contacts
            WHERE status IN ('active', 'suppressed') AND coalesce(kind, 'person') IN ('person', 'organisation')
        )
    )
    WHERE len(tokens) > 0
    """
)

_KEYS = """
    WITH raw AS (
        SELECT pos, 'p' || phone AS k FROM _dup_features WHERE phone IS NOT NULL
        UNION ALL
        SELECT pos, 'b' || birth_date::VARCHAR || postal_code FROM _dup_features
        WHERE birth_date IS NOT NULL AND postal_code IS NOT NULL
        UNION ALL
        SELECT pos, 'n' || postal_code || ':' || array_to_string(list_sort(list_transform(tokens, lambda t: left(t, 2))), '|')
        FROM _dup_features WHERE postal_code IS NOT NULL
        UNION ALL
        SELECT pos, 'h' || postal_code || ':' || split_part(street, ' ', 1) || left(split_part(street, ' ', -1), 1)
        FROM _dup_features
        WHERE postal_code IS NOT NULL AND TRY_CAST(split_part(street, ' ', 1) AS INTEGER) IS NOT NULL
        UNION ALL
        SELECT DISTINCT pos, 'd' || birth_date::VARCHAR || ':' || left(t, 3)
        FROM (SELECT pos, birth_date, unnest(tokens) AS t FROM _dup_features WHERE birth_date IS NOT NULL)
        WHERE length(t) >= 2
    ),
    -- A person and an organisation (the switchboard phone, the office address) are never a pair.
    hashed AS (SELECT raw.pos, hash(raw.k || f.kind) AS k FROM raw JOIN _dup_features f ON f.pos = raw.pos),
    sizes AS (SELECT k FROM hashed GROUP BY k HAVING count(*) BETWEEN 2 AND $max_block)
    SELECT hashed.pos, hashed.k FROM hashed SEMI JOIN sizes ON sizes.k = hashed.k
"""

_PAIRS = """
    SELECT DISTINCT a.pos AS pa, b.pos AS pb
    FROM _dup_keys a JOIN _dup_keys b ON a.k = b.k AND a.pos < b.pos
"""

# The initials of a normalised first name: "jean pierre" -> "jp".
_INITIALS = "array_to_string(list_transform(list_filter(string_split({x}.first_n, ' '), lambda t: t <> ''), lambda t: left(t, 1)), '')"
# How much a first name given as the other's initials weighs as a name similarity.
INITIALS_SIMILARITY = 0.85

_PAIR_FIELDS = """
    SELECT c.pa, c.pb, fa.id AS id_a, fb.id AS id_b,
           CASE WHEN fa.phone IS NULL OR fb.phone IS NULL THEN 'NaN'::DOUBLE
                WHEN fa.phone = fb.phone THEN 1.0
                WHEN length(fa.phone) = length(fb.phone) AND hamming(fa.phone, fb.phone) = 1 THEN 0.5
                ELSE 0.0 END AS phone_sim,
           CASE WHEN fa.birth_date IS NULL OR fb.birth_date IS NULL THEN 'NaN'::DOUBLE
                WHEN fa.birth_date = fb.birth_date THEN 1.0
                WHEN year(fa.birth_date) = year(fb.birth_date) AND month(fa.birth_date) = day(fb.birth_date)
                     AND day(fa.birth_date) = month(fb.birth_date) THEN 0.8
                WHEN (year(fa.birth_date) = year(fb.birth_date))::INT + (month(fa.birth_date) = month(fb.birth_date))::INT
                     + (day(fa.birth_date) = day(fb.birth_date))::INT = 2 THEN 0.5
                ELSE -1.0 END AS birth_sim,
           coalesce(fa.postal_code <> fb.postal_code, false) AS other_postal_code,
           -- Maybe two people of one household: other first names (not a swap) or genders,
           -- and no equal birth date to say otherwise.
           (coalesce(fa.first_n <> fb.first_n AND fa.first_n <> fb.last_n, false)
            OR coalesce(fa.gender <> fb.gender AND fa.gender IN ('F', 'M') AND fb.gender IN ('F', 'M'), false))
           AND NOT coalesce(fa.birth_date = fb.birth_date, false) AS household,
           -- One first name written as initials (J.-P., JP) of the other's (Jean-Pierre), same surname.
           coalesce(fa.last_n = fb.last_n AND fa.first_n <> fb.first_n AND (
               (length(replace(fa.first_n, ' ', '')) <= 3 AND replace(fa.first_n, ' ', '') = {initials_b})
               OR (length(replace(fb.first_n, ' ', '')) <= 3 AND replace(fb.first_n, ' ', '') = {initials_a})),
               false) AS initials,
           -- A change of surname (marriage, divorce): the same first name and birth date, another surname.
           coalesce(fa.first_n = fb.first_n AND fa.last_n <> fb.last_n AND fa.birth_date = fb.birth_date, false)
           AND NOT coalesce(fa.gender <> fb.gender AND fa.gender IN ('F', 'M') AND fb.gender IN ('F', 'M'), false)
           AS surname_change
    FROM _dup_candidates c
    JOIN _dup_features fa ON fa.pos = c.pa
    JOIN _dup_features fb ON fb.pos = c.pb
    ORDER BY c.pa, c.pb
""".replace("{initials_a}", _INITIALS.format(x="fa")).replace("{initials_b}", _INITIALS.format(x="fb"))


@dataclass
class ScoredPairs:
    """Candidate pairs with their score and per-field similarities (NaN where a side lacks the field)."""

    id_a: np.ndarray
    id_b: np.ndarray
    score: np.ndarray
    fields: dict[str, np.ndarray]
    candidates: int
    surname_change: np.ndarray | None = None

    def matched_fields(self, index: int) -> list[str]:
        matched = [f for f in FIELDS if self.fields[f][index] >= MATCHED_AT]
        if self.surname_change is not None and self.surname_change[index]:
            matched.insert(0, "first_name")
        return matched


def _sharpen(ratio: np.ndarray, sharpness: float) -> np.ndarray:
    return np.clip(1.0 - (1.0 - ratio / 100.0) * sharpness, 0.0, 1.0)


def _ratios(left_values: np.ndarray, right_values: np.ndarray, pa: np.ndarray, pb: np.ndarray,
            present: np.ndarray) -> np.ndarray:
    """fuzz.ratio (0-100) of left_values[pa] vs right_values[pb]; NaN where ``present`` is false.

    Missing values are empty strings, scored like the rest (cheaply) and masked after.
    """
    # Two distinct sequences: cdist/cpdist are much slower when both arguments are the same object.
    ratios = cpdist(left_values[pa], right_values[pb], scorer=fuzz.ratio, workers=-1, dtype=np.float32)
    return np.where(present, ratios, np.nan)


def _strings(table, name: str, positions: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A string column as an object array indexed by position ('' for null) and its validity mask."""
    column = table.column(name)
    values = np.full(size, "", dtype=object)
    valid = np.zeros(size, dtype=bool)
    values[positions] = column.fill_null("").to_pylist()
    valid[positions] = column.is_valid().to_numpy(zero_copy_only=False)
    return values, valid


def _query_over(con: duckdb.DuckDBPyConnection, name: str, table: pyarrow.Table, sql: str,
                params: dict | None = None) -> pyarrow.Table:
    """Run ``sql`` with the Arrow ``table`` visible as ``name``; the result as an Arrow table."""
    con.register(name, table)
    try:
        return con.sql(sql, params=params).to_arrow_table()
    finally:
        con.unregister(name)


def find_candidate_pairs(con: duckdb.DuckDBPyConnection, settings: DuplicateSettings) -> ScoredPairs:
    """Block and score the live person contacts; every pair that could be scored, with its score."""
    # The intermediate tables are Arrow tables rather than DuckDB temp tables: ``clean`` runs in
    # one transaction, which keeps dropped temp tables in memory until it commits.
    features = con.sql(_FEATURES).to_arrow_table()
    keys = _query_over(con, "_dup_features", features, _KEYS, {"max_block": MAX_BLOCK})
    pairs = _query_over(con, "_dup_keys", keys, _PAIRS)
    del keys
    candidates = pairs.num_rows
    con.register("_dup_features", features)  # _PAIR_FIELDS reads both
    try:
        other = _query_over(con, "_dup_candidates", pairs, _PAIR_FIELDS)
    finally:
        con.unregister("_dup_features")
    del pairs
    # Positions are contact ids (no sort needed); arrays are indexed by id.
    positions = features.column("pos").to_numpy()
    size = int(positions.max()) + 1 if len(positions) else 1
    first_last, name_valid = _strings(features, "first_last", positions, size)
    last_first, _ = _strings(features, "last_first", positions, size)
    street, street_valid = _strings(features, "street", positions, size)
    del features
    pa = other.column("pa").to_numpy()
    pb = other.column("pb").to_numpy()
    other_postal = other.column("other_postal_code").to_numpy(zero_copy_only=False)
    household = other.column("household").to_numpy(zero_copy_only=False)
    initials = other.column("initials").to_numpy(zero_copy_only=False)
    surname_change = other.column("surname_change").to_numpy(zero_copy_only=False)
    sims = {
        "name": np.empty(len(pa), dtype=np.float32),
        "address": np.empty(len(pa), dtype=np.float32),
        "phone": other.column("phone_sim").to_numpy().astype(np.float32),
        "birth_date": other.column("birth_sim").to_numpy().astype(np.float32),
    }
    id_a = other.column("id_a").to_numpy()
    id_b = other.column("id_b").to_numpy()
    del other
    # In chunks, so the gathered strings and ratios of millions of pairs never coexist.
    for start in range(0, len(pa), CHUNK):
        a, b = pa[start : start + CHUNK], pb[start : start + CHUNK]
        names_present = name_valid[a] & name_valid[b]
        # Both orders of first and last name: a swap cannot hide from the second, and unlike
        # sorted tokens a typo in a first letter does not change which token is compared to which.
        sims["name"][start : start + CHUNK] = _sharpen(
            np.fmax(_ratios(first_last, first_last.copy(), a, b, names_present),
                    _ratios(first_last, last_first, a, b, names_present)),
            SHARPNESS,
        )
        sims["address"][start : start + CHUNK] = np.where(
            other_postal[start : start + CHUNK],
            0.0,
            _sharpen(_ratios(street, street.copy(), a, b, street_valid[a] & street_valid[b]), STREET_SHARPNESS),
        )
    sims["name"] = np.where(initials, np.fmax(sims["name"], INITIALS_SIMILARITY), sims["name"]).astype(np.float32)
    weights = settings.weights
    total = np.zeros(len(pa), dtype=np.float32)
    weight_sum = np.zeros(len(pa), dtype=np.float32)
    other_fields = np.zeros(len(pa), dtype=np.int8)
    for field in FIELDS:
        w = float(weights.get(field, 0.0))
        present = ~np.isnan(sims[field])
        if w > 0:
            total += np.where(present, sims[field] * w, 0.0)
            weight_sum += np.where(present, w, 0.0)
        if field != "name":
            other_fields += present
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(weight_sum > 0, total / weight_sum, 0.0)
    score = np.clip(score, 0.0, 1.0)
    score[np.isnan(sims["name"]) | (other_fields == 0)] = 0.0
    score = np.where(household, np.minimum(score, settings.auto_merge_threshold - HOUSEHOLD_MARGIN), score)
    # A surname changed by a marriage: the name scores nothing, yet one first name, one birth date and
    # one phone or address say one person. Such a pair waits for review; it is never merged unseen.
    # (A surname with a typo keeps its name similarity and its score: only a name that scores
    # nothing is lifted to the review threshold, and held under the auto-merge one whatever the weights.)
    surname_change &= (sims["name"] < MATCHED_AT) & ((sims["phone"] == 1.0) | (sims["address"] >= MATCHED_AT))
    below_auto = settings.auto_merge_threshold - HOUSEHOLD_MARGIN
    score = np.where(surname_change, np.clip(score, settings.review_threshold, below_auto), score)
    return ScoredPairs(id_a=id_a, id_b=id_b, score=np.round(score.astype(np.float64), 4), fields=sims,
                       candidates=candidates, surname_change=surname_change)
