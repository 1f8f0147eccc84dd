"""Hand-made histories for the scoring tests: contacts and events inserted with SQL."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest

from cli.scoring import refresh_scores
from cli.settings import Settings


def no_rules_settings(**overrides: Any) -> Settings:
    """Default settings without lead rules (they need the segment engine)."""
    scoring = {"leads": {"rules": []}, **overrides.pop("scoring", {})}
    return Settings(scoring=scoring, **overrides)


class Base:
    """Writes contacts and events; reads scores and history back."""

    def __init__(self, con) -> None:
        self.con = con
        self._next = 1

    def contact(self, *, email: str | None = "auto", phone=None, street=None, postal_code=None, city=None,
                status: str = "active", job_title=None, consent_email=None, consent_at=None,
                consent_withdrawn_at=None) -> int:
        cid = self._next
        self._next += 1
        if email == "auto":
            email = f"person{cid}@example.org"
        self.con.execute(
            "INSERT INTO contacts (id, email, phone, street, postal_code, city, status, job_title, consent_email, "
            "consent_at, consent_withdrawn_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [cid, email, phone, street, postal_code, city, status, job_title, consent_email, consent_at,
             consent_withdrawn_at],
        )
        return cid

    def event(self, contact_id: int, type_: str, when: date | datetime | str, amount: float | None = None) -> None:
        self.con.execute(
            "INSERT INTO events (contact_id, type, occurred_at, amount) VALUES (?, ?, CAST(? AS TIMESTAMP), ?)",
            [contact_id, type_, str(when), amount],
        )

    def score(self, as_of: date, settings: Settings | None = None):
        return refresh_scores(self.con, settings or no_rules_settings(), as_of)

    def scores(self, contact_id: int) -> dict[str, Any]:
        cursor = self.con.execute("SELECT * FROM contact_scores WHERE contact_id = ?", [contact_id])
        row = cursor.fetchone()
        assert row is not None, f"contact {contact_id} has no scores"
        return dict(zip([d[0] for d in cursor.description], row))

    def stage(self, contact_id: int) -> str:
        return self.scores(contact_id)["lifecycle_stage"]

    def history(self, contact_id: int) -> list[tuple[str | None, str, date]]:
        return [
            tuple(r)
            for r in self.con.execute(
                "SELECT previous_stage, stage, changed_at FROM stage_history WHERE contact_id = ? ORDER BY seq",
                [contact_id],
            ).fetchall()
        ]


@pytest.fixture
def base(con) -> Base:
    return Base(con)


@dataclass
class StandInCompiled:
    sql: str
    params: list


def stand_in_compile_condition(condition: dict, *, settings, as_of, con=None) -> StandInCompiled:
    """Two condition shapes, enough to test lead points without the segment engine."""
    from cli.errors import SegmentError

    if set(condition) == {"contact_ids"}:
        return StandInCompiled("SELECT unnest(?::BIGINT[]) AS contact_id", [condition["contact_ids"]])
    if condition == {"job_title": {"is_null": False}}:
        return StandInCompiled("SELECT id AS contact_id FROM contacts WHERE job_title IS NOT NULL", [])
    raise SegmentError(f"unknown field `{next(iter(condition))}`")


@pytest.fixture
def stand_in_engine(monkeypatch: pytest.MonkeyPatch):
    """Replace the segment engine by ``stand_in_compile_condition`` for one test."""
    module = types.ModuleType("cli.segmenting")
    module.compile_condition = stand_in_compile_condition
    monkeypatch.setitem(sys.modules, "cli.segmenting", module)
    return module
