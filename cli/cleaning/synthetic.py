"""A labelled set of contacts with known duplicates, for measuring duplicate detection.

Used by the duplicate-quality test (a few thousand people) and by
``bench/clean.py`` (a million contacts). Each person gets one record, and a
share of people get one or two more records of themselves, with the kinds of
differences real exports have: another email or none, a typo in the first or
last name, first and last names swapped, a missing phone, birth date or
address, a typo in the street. Hard negatives are built in: names are drawn
with a Zipf-like skew (so namesakes share postal codes) and some people
share a household (same surname, address and landline) with another.

``person_id`` is the truth: two records are duplicates exactly when they
have the same ``person_id``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate

import duckdb
import polars as pl

from cli.suppression import refresh_contact_keys

_FIRST = (
    "marie jean pierre michel anne philippe nathalie isabelle alain catherine sylvie francoise nicolas "
    "christophe stephane patrick christine sandrine laurent frederic david eric julien sebastien valerie "
    "olivier thomas celine aurelie camille emma lea manon chloe ines jade louise lucas hugo louis gabriel "
    "arthur raphael jules adam paul antoine maxime alexandre romain vincent mathieu guillaume benoit "
    "helene sophie claire agnes monique jacqueline brigitte martine dominique bernard daniel rene andre "
    "marcel henri jacques francois yves gerard joelle josiane odile pascale corinne veronique florence "
    "elodie emilie pauline marion lucie justine margaux clara zoe lina mila rose anna alice eva sarah "
    "noemie oceane mathilde charlotte juliette victor leo nathan ethan noah tom theo enzo clement axel"
).split()
_SYLLABLES = (
    "ber mar du lac fon tai ne rou ssel gar nier mor eau bon val mont ri chard blanc fau bre tin "
    "del pon cas lan vin cour mas ger beau pel ran sau lou bar dan col fer gil hu jo la mi "
    "pa qui sa to vi za ro che let teau vil lard quet ot in et on and ier oux"
).split()
_STREET_TYPES = ("rue", "avenue", "boulevard", "place", "chemin", "allee", "impasse", "route")
_STREET_NAMES = (
    "des lilas", "victor hugo", "jean jaures", "de la republique", "pasteur", "du general de gaulle",
    "de la gare", "des ecoles", "du moulin", "de l eglise", "des roses", "du chateau", "de verdun",
    "gambetta", "voltaire", "de paris", "des acacias", "du stade", "de la liberte", "jules ferry",
    "des tilleuls", "du marche", "de la mairie", "saint martin", "des peupliers", "moliere",
)
_DOMAINS = ("gmail.com", "orange.fr", "free.fr", "yahoo.fr", "hotmail.fr", "laposte.net", "sfr.fr", "outlook.fr")
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class LabelledSetOptions:
    people: int = 2000
    duplicate_share: float = 0.15     # people with at least one more record
    second_duplicate_share: float = 0.2  # of those, people with two more
    household_share: float = 0.05     # people who share a household with a new person
    postal_codes: int | None = None   # default: one per 200 people
    seed: int = 7


def _zipf_weights(n: int, exponent: float = 0.9) -> list[float]:
    return list(accumulate(1.0 / (rank + 1) ** exponent for rank in range(n)))


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text + rng.choice(_ALPHABET)
    i = rng.randrange(len(text))
    kind = rng.randrange(4)
    if kind == 0:
        return text[:i] + rng.choice(_ALPHABET) + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i + 1 :]
    if kind == 2:
        return text[:i] + rng.choice(_ALPHABET) + text[i:]
    i = min(i, len(text) - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def generate_labelled_set(options: LabelledSetOptions = LabelledSetOptions()) -> pl.DataFrame:
    """Records (contact columns plus ``person_id``), duplicates shuffled among the originals."""
    rng = random.Random(options.seed)
    n = options.people
    last_names = sorted({"".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 2, 3)))) for _ in range(4000)})
    rng.shuffle(last_names)
    first_cum = _zipf_weights(len(_FIRST))
    last_cum = _zipf_weights(len(last_names), 0.8)
    n_codes = options.postal_codes or max(5, n // 200)
    codes = [f"{rng.randrange(1000, 96000):05d}" for _ in range(n_codes)]
    code_cum = _zipf_weights(n_codes, 0.5)
    cities = {code: "".join(rng.choice(_SYLLABLES) for _ in range(2)).capitalize() for code in codes}

    people = []
    for pid in range(n):
        if people and rng.random() < options.household_share:
            # A second person of an existing household: same surname, address and landline.
            other = people[rng.randrange(len(people))]
            person = dict(other)
            # Another first name: two same-named people in one household, with nothing else to tell
            # them apart, are not separable by any method.
            while person["first_name"] == other["first_name"]:
                person["first_name"] = rng.choices(_FIRST, cum_weights=first_cum)[0].capitalize()
            if rng.random() < 0.5:
                person["phone"] = f"+336{rng.randrange(10**8):08d}"
            person["birth_date"] = date(1940, 1, 1) + timedelta(days=rng.randrange(25000)) if rng.random() < 0.85 else None
            person["email"] = None
        else:
            code = rng.choices(codes, cum_weights=code_cum)[0]
            person = {
                "first_name": rng.choices(_FIRST, cum_weights=first_cum)[0].capitalize(),
                "last_name": rng.choices(last_names, cum_weights=last_cum)[0].upper(),
                "street": f"{rng.randrange(1, 150)} {rng.choice(_STREET_TYPES)} {rng.choice(_STREET_NAMES)}",
                "postal_code": code,
                "city": cities[code],
                "phone": f"+336{rng.randrange(10**8):08d}" if rng.random() < 0.7 else None,
                "birth_date": date(1940, 1, 1) + timedelta(days=rng.randrange(25000)) if rng.random() < 0.85 else None,
            }
        person["person_id"] = pid
        if person.get("email") is None and rng.random() < 0.9:
            person["email"] = f"{person['first_name'].lower()}.{person['last_name'].lower()}{pid}@{rng.choice(_DOMAINS)}"
        people.append(person)

    records = [dict(p) for p in people]
    for person in people:
        if rng.random() >= options.duplicate_share:
            continue
        copies = 2 if rng.random() < options.second_duplicate_share else 1
        for _ in range(copies):
            record = dict(person)
            record["email"] = (
                f"{person['first_name'][0].lower()}{person['last_name'].lower()}.{person['person_id']}@{rng.choice(_DOMAINS)}"
                if rng.random() < 0.7 else None
            )
            if rng.random() < 0.3:
                field = rng.choice(("first_name", "last_name"))
                record[field] = _typo(rng, record[field].lower()).capitalize()
            if rng.random() < 0.15:
                record["first_name"], record["last_name"] = record["last_name"], record["first_name"]
            if rng.random() < 0.3:
                record["street"] = _typo(rng, record["street"])
            # Drop some fields, but never every one besides the name: a name alone identifies no one.
            droppable = [f for f in ("phone", "birth_date", "street") if record.get(f) is not None]
            rng.shuffle(droppable)
            for field in droppable[: max(0, len(droppable) - 1)]:
                if rng.random() < 0.3:
                    record[field] = None
                    if field == "street":
                        record["postal_code"] = record["city"] = None
            records.append(record)
    rng.shuffle(records)
    return pl.DataFrame(
        records,
        schema={
            "person_id": pl.Int64, "email": pl.Utf8, "first_name": pl.Utf8, "last_name": pl.Utf8,
            "phone": pl.Utf8, "street": pl.Utf8, "postal_code": pl.Utf8, "city": pl.Utf8, "birth_date": pl.Date,
        },
    )


def load_labelled_set(con: duckdb.DuckDBPyConnection, records: pl.DataFrame) -> pl.DataFrame:
    """Insert the records as contacts; returns (contact_id, person_id)."""
    ids = [r[0] for r in con.execute("SELECT nextval('contact_id_seq') FROM range(?)", [records.height]).fetchall()]
    frame = records.with_columns(pl.Series("id", ids, dtype=pl.Int64))
    con.register("_labelled", frame.to_arrow())
    try:
        con.execute(
            """
            INSERT INTO contacts (id, email, first_name, last_name, phone, street, postal_code, city, country,
                                  birth_date, consent_email, consent_basis, consent_at, source)
            SELECT id, email, first_name, last_name, phone, street, postal_code, city, 'FR', birth_date,
                   true, 'consent', TIMESTAMP '2024-01-01', 'labelled-set'
            FROM _labelled
            """
        )
    finally:
        con.unregister("_labelled")
    refresh_contact_keys(con)
    return frame.select("id", "person_id")


def true_pairs(truth: pl.DataFrame) -> set[tuple[int, int]]:
    """Every (smaller id, larger id) pair of records of the same person."""
    pairs: set[tuple[int, int]] = set()
    for group in truth.group_by("person_id").agg(pl.col("id")).filter(pl.col("id").list.len() > 1)["id"]:
        ids = sorted(group)
        pairs |= {(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :]}
    return pairs


def pair_quality(found: set[tuple[int, int]], truth: pl.DataFrame) -> dict[str, float]:
    """Precision and recall of ``found`` pairs against the truth."""
    expected = true_pairs(truth)
    hits = len(found & expected)
    return {
        "found": len(found),
        "true": len(expected),
        "precision": hits / len(found) if found else 1.0,
        "recall": hits / len(expected) if expected else 1.0,
    }


def cluster_pair_quality(con: duckdb.DuckDBPyConnection, truth: pl.DataFrame) -> dict[str, float]:
    """Precision and recall of the final grouping: two records are "found" when they ended in one contact."""
    con.register("_truth", truth.to_arrow())
    try:
        found, hits = con.execute(
            """
            WITH RECURSIVE root(id, top) AS (
                SELECT id, id FROM contacts WHERE merged_into IS NULL
                UNION ALL
                SELECT c.id, r.top FROM contacts c JOIN root r ON c.merged_into = r.id
            ),
            per_top AS (SELECT r.top, count(*) AS n FROM _truth t JOIN root r ON r.id = t.id GROUP BY r.top),
            per_top_person AS (
                SELECT r.top, t.person_id, count(*) AS n FROM _truth t JOIN root r ON r.id = t.id
                GROUP BY r.top, t.person_id
            )
            SELECT (SELECT sum(n * (n - 1) / 2) FROM per_top), (SELECT sum(n * (n - 1) / 2) FROM per_top_person)
            """
        ).fetchall()[0]
        expected = con.execute(
            "SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM _truth GROUP BY person_id)"
        ).fetchall()[0][0]
    finally:
        con.unregister("_truth")
    found, hits, expected = int(found or 0), int(hits or 0), int(expected or 0)
    return {
        "found": found,
        "true": expected,
        "precision": hits / found if found else 1.0,
        "recall": hits / expected if expected else 1.0,
    }


def people_as_one_contact(con: duckdb.DuckDBPyConnection, truth: pl.DataFrame) -> float:
    """Share of people whose records all ended in one live contact that holds no one else."""
    con.register("_truth", truth.to_arrow())
    try:
        share = con.execute(
            """
            WITH RECURSIVE root(id, top) AS (
                SELECT id, id FROM contacts WHERE merged_into IS NULL
                UNION ALL
                SELECT c.id, r.top FROM contacts c JOIN root r ON c.merged_into = r.id
            ),
            per_person AS (
                SELECT t.person_id, count(DISTINCT r.top) AS tops, min(r.top) AS top
                FROM _truth t JOIN root r ON r.id = t.id GROUP BY t.person_id
            ),
            per_top AS (
                SELECT r.top, count(DISTINCT t.person_id) AS persons
                FROM _truth t JOIN root r ON r.id = t.id GROUP BY r.top
            )
            SELECT avg(CASE WHEN p.tops = 1 AND pt.persons = 1 THEN 1.0 ELSE 0.0 END)
            FROM per_person p JOIN per_top pt ON pt.top = p.top
            """
        ).fetchall()[0][0]
    finally:
        con.unregister("_truth")
    return float(share)
