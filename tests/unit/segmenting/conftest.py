"""A seeded base for the segment tests, kept beside a plain-Python copy of it.

``seeded`` inserts deterministic random contacts, custom values, tags,
events (some dated after the as-of date), groups, scores and stage changes
directly with SQL, and returns the same data as Python dicts so that tests
compute expected members without the compiler.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from cli.settings import FieldDefinition, Settings

AS_OF = date(2026, 6, 15)
CITIES = ["Lyon", "Paris", "Saint-Étienne", "Nice", "lyon", "O'Brien's; DROP TABLE contacts; --", None]
TAGS = ["newsletter", "vip", "benevole"]
INTERESTS = ["animaux", "environnement", "education"]
EVENT_TYPES = ["donation", "purchase", "email_open", "email_click", "unsubscribe"]
CHANNELS = ["web", "cheque", None]


def make_settings(base_dir: Path) -> Settings:
    return Settings(
        base_dir=base_dir,
        fields={
            "interests": FieldDefinition(type="multiselect", options=INTERESTS),
            "score": FieldDefinition(type="number"),
            "member_since": FieldDefinition(type="date"),
            "volunteer": FieldDefinition(type="boolean"),
            "theme": FieldDefinition(type="select", options=["nature", "culture"]),
            "mobile": FieldDefinition(type="phone"),
        },
    )


@dataclass
class Person:
    id: int
    email: str | None
    city: str | None
    first_name: str
    birth_date: date | None
    status: str
    consent_email: bool | None
    job_title: str | None
    interests: list[str] | None
    score: float | None
    member_since: date | None
    volunteer: bool | None
    theme: str | None
    tags: set[str] = field(default_factory=set)
    events: list[tuple[str, datetime, float | None, str | None]] = field(default_factory=list)
    groups: set[str] = field(default_factory=set)
    lifecycle_stage: str | None = None
    lead_score: int | None = None
    stage_changes: list[tuple[str, str | None, date]] = field(default_factory=list)

    def events_of(self, types=None, start: date | None = None, end: date = AS_OF, channel=None):
        """Events up to ``end`` (inclusive day), never after the as-of date."""
        result = []
        for kind, when, amount, chan in self.events:
            day = when.date()
            if day > AS_OF or day > end:
                continue
            if types is not None and kind not in types:
                continue
            if start is not None and day < start:
                continue
            if channel is not None and chan != channel:
                continue
            result.append((kind, when, amount, chan))
        return result

    @property
    def gifts(self):
        return self.events_of(["donation"])

    @property
    def age(self) -> int | None:
        if self.birth_date is None:
            return None
        years = AS_OF.year - self.birth_date.year
        if (AS_OF.month, AS_OF.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


def build_people(seed: int, count: int) -> list[Person]:
    rng = random.Random(seed)
    people = []
    for index in range(1, count + 1):
        birth = None
        if rng.random() < 0.85:
            birth = date(rng.randint(1940, 2010), rng.randint(1, 12), rng.randint(1, 28))
        if index == 3:
            birth = date(1992, 2, 29)
        if index == 4:
            birth = date(1980, 6, 20)  # birthday 5 days after the as-of date
        person = Person(
            id=index,
            email=f"person{index}@example.org" if rng.random() < 0.9 else None,
            city=rng.choice(CITIES),
            first_name=rng.choice(["Anne", "Bob", "=1+2", "@SUM(A1)", "Zoé"]),
            birth_date=birth,
            status=rng.choice(["active"] * 6 + ["suppressed", "merged"]),
            consent_email=rng.choice([True, True, False, None]),
            job_title=rng.choice([None, "Director", "Volunteer"]),
            interests=rng.choice([None, [], ["animaux"], ["animaux", "education"], ["environnement"]]),
            score=rng.choice([None, 0, 5, 12.5, 40]),
            member_since=rng.choice([None, date(2020, 1, 1), date(2025, 12, 31), date(2026, 6, 15), date(2024, 6, 15)]),
            volunteer=rng.choice([None, True, False]),
            theme=rng.choice([None, "nature", "culture"]),
        )
        person.tags = {t for t in TAGS if rng.random() < 0.4}
        for _ in range(rng.randint(0, 6)):
            kind = rng.choice(EVENT_TYPES)
            when = datetime.combine(AS_OF, datetime.min.time()) - timedelta(days=rng.randint(-30, 800), hours=rng.randint(0, 23))
            amount = float(rng.choice([5, 20, 50, 100])) if kind in ("donation", "purchase") else None
            person.events.append((kind, when, amount, rng.choice(CHANNELS)))
        if rng.random() < 0.3:
            person.groups.add("board")
        if rng.random() < 0.7:
            person.lifecycle_stage = rng.choice(["prospect", "active_customer", "lost"])
            person.lead_score = rng.choice([0, 10, 30, 70])
        if rng.random() < 0.3:
            person.stage_changes.append(("lost", "active_customer", AS_OF - timedelta(days=rng.randint(0, 90))))
        people.append(person)
    return people


def _bulk(con, table: str, columns: list[str], rows: list[list], schema: dict | None = None) -> None:
    """Insert ``rows`` set-wise through a registered Polars frame (executemany is row by row)."""
    if not rows:
        return
    frame = pl.DataFrame(rows, schema=schema or columns, orient="row")
    con.register("bulk_rows", frame)
    # table and column names are the constants of this module
    statement = "INSERT INTO " + table + " (" + ", ".join(columns) + ") SELECT " + ", ".join(columns) + " FROM bulk_rows"
    con.execute(statement)
    con.unregister("bulk_rows")


def insert_people(con, people: list[Person]) -> None:
    _bulk(con, "contacts", ["id", "email", "first_name", "city", "birth_date", "status", "consent_email", "job_title"],
          [[p.id, p.email, p.first_name, p.city, p.birth_date, p.status, p.consent_email, p.job_title] for p in people],
          {"id": pl.Int64, "email": pl.String, "first_name": pl.String, "city": pl.String, "birth_date": pl.Date,
           "status": pl.String, "consent_email": pl.Boolean, "job_title": pl.String})
    values = []
    for p in people:
        if p.interests is not None:
            values.append([p.id, "interests", None, None, None, None, p.interests])
        if p.score is not None:
            values.append([p.id, "score", None, float(p.score), None, None, None])
        if p.member_since is not None:
            values.append([p.id, "member_since", None, None, p.member_since, None, None])
        if p.volunteer is not None:
            values.append([p.id, "volunteer", None, None, None, p.volunteer, None])
        if p.theme is not None:
            values.append([p.id, "theme", p.theme, None, None, None, None])
    _bulk(con, "custom_values", ["contact_id", "field", "text_value", "number_value", "date_value", "bool_value", "list_value"],
          values, {"contact_id": pl.Int64, "field": pl.String, "text_value": pl.String, "number_value": pl.Float64,
                   "date_value": pl.Date, "bool_value": pl.Boolean, "list_value": pl.List(pl.String)})
    _bulk(con, "contact_tags", ["contact_id", "tag"], [[p.id, t] for p in people for t in sorted(p.tags)])
    _bulk(con, "events", ["contact_id", "type", "occurred_at", "amount", "channel"],
          [[p.id, k, w, a, c] for p in people for (k, w, a, c) in p.events],
          {"contact_id": pl.Int64, "type": pl.String, "occurred_at": pl.Datetime, "amount": pl.Float64, "channel": pl.String})
    con.execute("INSERT INTO groups (name) VALUES ('board'), ('empty')")
    board = con.execute("SELECT id FROM groups WHERE name = 'board'").fetchall()[0][0]
    _bulk(con, "group_members", ["group_id", "contact_id"], [[board, p.id] for p in people if "board" in p.groups])
    _bulk(con, "contact_scores", ["contact_id", "as_of", "lifecycle_stage", "lead_score"],
          [[p.id, AS_OF, p.lifecycle_stage, p.lead_score] for p in people if p.lifecycle_stage],
          {"contact_id": pl.Int64, "as_of": pl.Date, "lifecycle_stage": pl.String, "lead_score": pl.Int64})
    _bulk(con, "stage_history", ["contact_id", "stage", "previous_stage", "changed_at"],
          [[p.id, s, prev, d] for p in people for (s, prev, d) in p.stage_changes],
          {"contact_id": pl.Int64, "stage": pl.String, "previous_stage": pl.String, "changed_at": pl.Date})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    (tmp_path / "segments").mkdir()
    return make_settings(tmp_path)


@pytest.fixture
def people(con) -> list[Person]:
    population = build_people(seed=7, count=120)
    insert_people(con, population)
    return population
