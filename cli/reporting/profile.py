"""``segment profile``: the typical member of a segment, set against the base.

The members are given as a query (``SELECT contact_id ...``), copied once
into a temporary table; each figure is then one aggregate over members and
base side by side. The persona sentence is built from the strongest
differences — the seeds' advice to write to a person, not to a list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from cli.reporting.regions import REGION_SQL, region_params
from cli.settings import Settings

AGE_BANDS = [(0, 24, "under 25"), (25, 34, "25–34"), (35, 49, "35–49"), (50, 64, "50–64"), (65, 200, "65+")]
GENDER_WORDS = {"F": "women", "M": "men", "X": "non-binary people"}
LIVE = "c.status NOT IN ('merged', 'erased')"


@dataclass
class Share:
    """One value's share among members and in the base (0..1, of those with a known value)."""

    value: str
    members: float
    base: float

    @property
    def lift(self) -> float:
        return self.members / self.base if self.base else 0.0


@dataclass
class Profile:
    size: int
    base_size: int
    age_bands: list[Share] = field(default_factory=list)
    median_age: float | None = None
    gender: list[Share] = field(default_factory=list)
    regions: list[Share] = field(default_factory=list)
    tags: list[Share] = field(default_factory=list)
    interests: dict[str, list[Share]] = field(default_factory=dict)
    sources: list[Share] = field(default_factory=list)
    giving: dict[str, Any] = field(default_factory=dict)
    rfm_groups: list[Share] = field(default_factory=list)
    engagement: dict[str, Any] = field(default_factory=dict)
    persona: str = ""
    # How many members, and contacts of the base, have a known value for each dimension: the
    # shares are of those, so "0%" everywhere would otherwise hide "nobody gave a birth date".
    known: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        def shares(items: list[Share]) -> list[dict[str, Any]]:
            return [{"value": s.value, "members": round(s.members, 4), "base": round(s.base, 4)} for s in items]

        return {
            "size": self.size,
            "base_size": self.base_size,
            "median_age": self.median_age,
            "age_bands": shares(self.age_bands),
            "gender": shares(self.gender),
            "regions": shares(self.regions),
            "tags": shares(self.tags),
            "interests": {k: shares(v) for k, v in self.interests.items()},
            "sources": shares(self.sources),
            "giving": self.giving,
            "rfm_groups": shares(self.rfm_groups),
            "engagement": self.engagement,
            "persona": self.persona,
            "known": self.known,
        }


def _shares(con: duckdb.DuckDBPyConnection, value_sql: str, params: dict[str, Any], top: int | None = None) -> list[Share]:
    """Shares of each value of ``value_sql`` (over contacts ``c``) among members and base.

    ``value_sql`` is built only from constants in this module.
    """
    query = f"""
        WITH v AS (
            SELECT {value_sql} AS value, (m.contact_id IS NOT NULL) AS is_member
            FROM contacts c LEFT JOIN profile_members m ON m.contact_id = c.id
            WHERE {LIVE}
        ), known AS (SELECT * FROM v WHERE value IS NOT NULL)
        SELECT value,
               count(*) FILTER (WHERE is_member) / greatest((SELECT count(*) FROM known WHERE is_member), 1),
               count(*) / greatest((SELECT count(*) FROM known), 1)
        FROM known GROUP BY value
        ORDER BY 2 DESC, 3 DESC, value
    """  # noqa: S608 - value_sql is a module constant
    rows = con.execute(query, params).fetchall()
    result = [Share(str(value), float(m), float(b)) for value, m, b in rows]
    return result[:top] if top else result


def _list_shares(con: duckdb.DuckDBPyConnection, list_sql: str, params: dict[str, Any], top: int) -> list[Share]:
    """Shares of contacts holding each element of a list-valued expression (tags, multiselects)."""
    query = f"""
        WITH v AS (
            SELECT c.id, ({list_sql}) AS items, (m.contact_id IS NOT NULL) AS is_member
            FROM contacts c LEFT JOIN profile_members m ON m.contact_id = c.id
            WHERE {LIVE}
        ), exploded AS (SELECT DISTINCT id, is_member, unnest(items) AS value FROM v)
        SELECT value,
               count(*) FILTER (WHERE is_member) / greatest((SELECT count(*) FROM v WHERE is_member), 1),
               count(*) / greatest((SELECT count(*) FROM v), 1)
        FROM exploded GROUP BY value ORDER BY 2 DESC, 3 DESC, value LIMIT {int(top)}
    """  # noqa: S608 - list_sql is a module constant
    return [Share(str(v), float(m), float(b)) for v, m, b in con.execute(query, params).fetchall()]


# Full years at the as-of date, like the segment field `age` (date_diff('year') counts New Years crossed).
AGE_SQL = ("date_diff('year', c.birth_date, $as_of::DATE)"
           " - CASE WHEN strftime(c.birth_date, '%m%d') > strftime($as_of::DATE, '%m%d') THEN 1 ELSE 0 END")


def _age_band_sql() -> str:
    cases = " ".join(f"WHEN age BETWEEN {lo} AND {hi} THEN '{label}'" for lo, hi, label in AGE_BANDS)
    return f"(SELECT CASE {cases} END FROM (SELECT {AGE_SQL} AS age))"


def _giving(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> dict[str, Any]:
    row = con.execute(
        """
        WITH gifts AS (
            SELECT e.contact_id, e.amount, e.occurred_at FROM events e
            JOIN profile_members m ON m.contact_id = e.contact_id
            WHERE e.type = 'donation' AND e.occurred_at <= $as_of::DATE + INTERVAL 1 DAY - INTERVAL 1 MICROSECOND
        ), per_donor AS (
            SELECT contact_id, count(*) FILTER (WHERE occurred_at > $as_of::DATE - INTERVAL 12 MONTH) AS last_year,
                   sum(amount) AS total
            FROM gifts GROUP BY contact_id
        )
        SELECT (SELECT count(*) FROM per_donor),
               (SELECT median(amount) FROM gifts),
               (SELECT avg(last_year) FROM per_donor WHERE last_year > 0),
               (SELECT median(total) FROM per_donor)
        """,
        params,
    ).fetchone()
    donors, median_gift, gifts_a_year, median_total = row
    size = con.execute("SELECT count(*) FROM profile_members").fetchone()[0]
    return {
        "donors": donors,
        "donor_share": round(donors / size, 4) if size else 0.0,
        "median_gift": float(median_gift) if median_gift is not None else None,
        "gifts_per_year": round(float(gifts_a_year), 1) if gifts_a_year is not None else None,
        "median_total_given": float(median_total) if median_total is not None else None,
    }


def _engagement(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> dict[str, Any]:
    row = con.execute(
        """
        WITH openers AS (
            SELECT DISTINCT contact_id FROM events
            WHERE type IN ('email_open', 'email_click')
              AND occurred_at >= $as_of::DATE - INTERVAL 6 MONTH
              AND occurred_at < $as_of::DATE + INTERVAL 1 DAY
        ), live AS (SELECT c.id, (m.contact_id IS NOT NULL) AS is_member FROM contacts c
                    LEFT JOIN profile_members m ON m.contact_id = c.id WHERE c.status NOT IN ('merged', 'erased'))
        SELECT avg(CASE WHEN o.contact_id IS NOT NULL THEN 1 ELSE 0 END) FILTER (WHERE is_member),
               avg(CASE WHEN o.contact_id IS NOT NULL THEN 1 ELSE 0 END),
               (SELECT avg(s.engagement_score) FROM contact_scores s JOIN profile_members m USING (contact_id))
        FROM live LEFT JOIN openers o ON o.contact_id = live.id
        """,
        params,
    ).fetchone()
    return {
        "opened_last_6_months": round(float(row[0] or 0), 4),
        "opened_last_6_months_base": round(float(row[1] or 0), 4),
        "mean_engagement_score": round(float(row[2]), 2) if row[2] is not None else None,
    }


def profile_members(
    con: duckdb.DuckDBPyConnection, members_sql: str, members_params: dict[str, Any] | list[Any] | None,
    *, settings: Settings, as_of: date,
) -> Profile:
    """Profile the contacts selected by ``members_sql`` (one column of contact ids) against the base."""
    con.execute("CREATE OR REPLACE TEMP TABLE profile_members AS SELECT DISTINCT * FROM (" + members_sql + ")",
                members_params or [])
    first = con.execute("SELECT * FROM profile_members LIMIT 0").description[0][0]
    con.execute("ALTER TABLE profile_members RENAME COLUMN " + _quoted(first) + " TO contact_id")
    params: dict[str, Any] = {"as_of": as_of}
    size = con.execute("SELECT count(*) FROM profile_members").fetchone()[0]
    base_size = con.execute("SELECT count(*) FROM contacts c WHERE " + LIVE).fetchone()[0]
    profile = Profile(size=size, base_size=base_size)
    age_params = {"as_of": as_of}
    profile.age_bands = sorted(
        _shares(con, _age_band_sql(), age_params),
        key=lambda s: [label for _, _, label in AGE_BANDS].index(s.value),
    )
    median_age = con.execute(
        "SELECT median(" + AGE_SQL + ") FROM contacts c "
        "JOIN profile_members m ON m.contact_id = c.id", params).fetchone()[0]
    profile.median_age = float(median_age) if median_age is not None else None
    profile.gender = _shares(con, "c.gender", {})
    profile.regions = _shares(con, REGION_SQL, region_params(), top=5)
    profile.sources = _shares(con, "c.source", {}, top=5)
    profile.tags = _list_shares(con, "SELECT list(tag) FROM contact_tags t WHERE t.contact_id = c.id", {}, top=5)
    for name, spec in settings.fields.items():
        if spec.type in ("multiselect", "select"):
            column = "list_value" if spec.type == "multiselect" else "[text_value]"
            profile.interests[name] = _list_shares(
                con,
                f"SELECT first({column}) FROM custom_values v WHERE v.contact_id = c.id AND v.field = $field",
                {"field": name}, top=5,
            )
    profile.giving = _giving(con, params)
    profile.rfm_groups = _shares(
        con, "(SELECT s.rfm_segment FROM contact_scores s WHERE s.contact_id = c.id LIMIT 1)", {}, top=5)
    profile.engagement = _engagement(con, params)
    profile.known = _known(con, region_params())
    profile.persona = persona_sentence(profile)
    con.execute("DROP TABLE profile_members")
    return profile


def _known(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Members and live contacts with a birth date, a gender and a region (the bases of those shares)."""
    row = con.execute(
        f"""
        WITH v AS (
            SELECT (m.contact_id IS NOT NULL) AS is_member, c.birth_date IS NOT NULL AS age,
                   c.gender IS NOT NULL AS gender, ({REGION_SQL}) IS NOT NULL AS region
            FROM contacts c LEFT JOIN profile_members m ON m.contact_id = c.id
            WHERE {LIVE}
        )
        SELECT count(*) FILTER (WHERE is_member AND age), count(*) FILTER (WHERE age),
               count(*) FILTER (WHERE is_member AND gender), count(*) FILTER (WHERE gender),
               count(*) FILTER (WHERE is_member AND region), count(*) FILTER (WHERE region)
        FROM v
        """,  # noqa: S608 - module constants only
        params,
    ).fetchone()
    return {name: {"members": row[2 * i], "base": row[2 * i + 1]} for i, name in enumerate(("age", "gender", "region"))}


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _pct(value: float) -> str:
    return f"{round(value * 100)}%"


def persona_sentence(profile: Profile) -> str:
    """One paragraph naming the strongest traits of the members.

    >>> persona_sentence(Profile(size=0, base_size=10))
    'This segment has no members.'
    """
    if profile.size == 0:
        return "This segment has no members."
    parts: list[str] = []
    # Only traits some members actually have: a segment whose members carry no
    # gender or birth date gets no gender or age in its persona.
    genders = [g for g in profile.gender if g.members > 0]
    bands = [b for b in profile.age_bands if b.members > 0]
    regions = [r for r in profile.regions if r.members > 0]
    who = "contacts"
    if genders:
        top = genders[0]
        if top.members >= 0.55 and top.value in GENDER_WORDS:
            who = f"mostly {GENDER_WORDS[top.value]} ({_pct(top.members)})"
        else:
            who = "women and men alike"
    age = ""
    if bands:
        band = max(bands, key=lambda s: (s.members >= 0.2, s.lift * s.members))
        age = f" aged {band.value}" if band.value != "under 25" else " under 25"
    where = ""
    if regions and regions[0].members >= 0.3:
        where = f" in {regions[0].value} ({_pct(regions[0].members)})"
    elif regions:
        where = " spread across regions"
    parts.append(f"{who[0].upper()}{who[1:]}{age}{where}")
    interests = [s.value for shares in profile.interests.values() for s in shares if s.members >= 0.5]
    if interests:
        parts.append("interested in " + ", ".join(interests[:3]))
    tags = [f"{s.value} ({_pct(s.members)})" for s in profile.tags if s.members >= 0.5 and s.lift >= 1.2]
    if tags:
        parts.append("tagged " + ", ".join(tags[:3]))
    giving = profile.giving
    if giving.get("donors"):
        text = f"{_pct(giving['donor_share'])} have given"
        if giving.get("median_gift") is not None:
            text += f", a median gift of €{giving['median_gift']:.0f}"
        if giving.get("gifts_per_year"):
            text += f", about {giving['gifts_per_year']:g} gifts a year"
        parts.append(text)
    else:
        parts.append("no gifts yet")
    engagement = profile.engagement
    if engagement:
        share = engagement["opened_last_6_months"]
        base = engagement["opened_last_6_months_base"]
        word = "most" if share >= 0.5 else "some" if share >= 0.2 else "few"
        parts.append(f"{word} open emails ({_pct(share)} in the last 6 months, {_pct(base)} in the base)")
    return "; ".join(parts) + "."


def profile_segment(con: duckdb.DuckDBPyConnection, name: str, *, settings: Settings, as_of: date) -> Profile:
    """Profile the current members of segment ``name`` (purpose rules applied) against the base."""
    from cli.scoring import ensure_fresh_scores
    from cli.segmenting import compile_segment, library_for

    library = library_for(settings)
    spec = library.get(name)
    ensure_fresh_scores(con, settings, as_of)  # the profile shows RFM groups and engagement
    compiled = compile_segment(spec, settings=settings, as_of=as_of, library=library, con=con)
    return profile_members(con, compiled.sql, compiled.params, settings=settings, as_of=as_of)
