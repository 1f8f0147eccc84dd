"""From a validated segment tree to ONE SQL query with bound parameters.

The query is built with sqlglot's typed builders (``exp.column(...,
quoted=True)``, placeholders, ``exp.and_``/``or_``/``not_``) and rendered
for DuckDB; no user text is ever parsed as SQL. Column and table names come
only from the known schema (``cli.fields``) and the settings' declared
custom fields; every value a segment holds — and the as-of date and
windows computed from it — is a ``$name`` parameter.

Shape of the query::

    SELECT c.id AS contact_id
    FROM contacts AS c
    [LEFT JOIN contact_scores AS s ...]              -- scores, when used
    [LEFT JOIN (donation aggregates) AS g ...]       -- gift fields, when used
    [LEFT JOIN (last activity) AS a ...]             -- last_activity_at
    [LEFT JOIN (one custom field) AS cf_<name> ...]  -- per custom field used
    WHERE <condition>

When the per-contact event summary (``cli.event_summary``) agrees with the
events and no event is dated after the as-of date, the compiler answers
from it what it can answer exactly: an event condition without campaign,
channel, payment-method or ``until`` filters (with the default count, or
with count/sum comparisons and no date window), the gift fields,
``last_activity_at`` and the "no unsubscribe since consent" rule. Otherwise
(no connection, a stale summary, an ``--as-of`` replay before the newest
event) it scans ``events``. Both paths select the same contacts.

Set conditions (tags, events, groups, stage changes) are uncorrelated
``c.id IN (SELECT contact_id ...)`` sub-queries, which DuckDB runs as hash
semi-joins. Events dated after the as-of date are filtered out of every
sub-query and aggregate.

Null semantics: every leaf is two-valued. A comparison on a null value is
false (``COALESCE(pred, FALSE)``), so ``ne``/``not_in`` are false on null
and ``not: {FIELD: ...}`` holds for contacts whose field is null. This makes
a segment and its ``not`` partition the base.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
from sqlglot import exp

from cli.errors import SegmentError
from cli.fields import CONTACT_FIELDS, CUSTOM_VALUE_COLUMN, UNUSABLE_EMAIL_QUALITIES
from cli.segmenting.dates import RelativeDate, birthday_keys, next_day, resolve
from cli.segmenting.loader import SegmentLibrary, library_for, parse_condition
from cli.segmenting.model import (
    AllOf,
    AnyOf,
    EventCondition,
    FieldCondition,
    GroupCondition,
    Node,
    NotOf,
    Operation,
    SegmentReference,
    SegmentSpec,
    StageChange,
    TagCondition,
    hint,
)
from cli.settings import Settings

DIALECT = "duckdb"
SCORE_FIELDS = ("rfm_r", "rfm_f", "rfm_m", "rfm_segment", "engagement_score", "lead_score", "lead_stage",
                "lifecycle_stage")
GIFT_FIELDS = ("first_gift_at", "last_gift_at", "total_given", "gift_count")
# Event types that end email reachability when dated after the last consent.
EMAIL_STOP_EVENTS = ("unsubscribe", "spam_complaint", "hard_bounce")
IMPLIED_CONSENT_BASES = ("membership", "contract", "legitimate_interest")


@dataclass(frozen=True)
class CompiledQuery:
    """One SQL query and its ``$name`` parameters (a dict, for ``con.execute(sql, params)``)."""

    sql: str
    params: dict[str, Any] = field(default_factory=dict)

    def execute(self, con: duckdb.DuckDBPyConnection) -> list[tuple]:
        """Run the query and fetch every row."""
        try:
            return con.execute(self.sql, self.params).fetchall()
        except duckdb.Error as e:
            raise SegmentError(f"the segment query failed in DuckDB ({str(e).splitlines()[0]}).") from e


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def _table(name: str, alias: str) -> exp.Table:
    return exp.to_table(name).as_(alias, quoted=True)


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _lit(value: int) -> exp.Literal:
    return exp.Literal.number(value)


def _false_if_null(predicate: exp.Expression) -> exp.Expression:
    return exp.func("coalesce", predicate, exp.false())


def _all(items: list[exp.Expression]) -> exp.Expression:
    return exp.and_(*items) if items else exp.true()


def _any(items: list[exp.Expression]) -> exp.Expression:
    return exp.or_(*items) if items else exp.false()


def _zero_events_hold(node: EventCondition) -> bool:
    """Whether a contact with no matching event satisfies the condition.

    Only an explicit count that admits 0 (``count: {eq: 0}``, ``lt: 2``...) lets
    it, and then the sum must admit 0 too; without ``count`` the default is
    ``gte: 1`` (SPEC §5), so "sum: {lt: 50}" means givers of less than 50.
    """
    return bool(node.count) and all(_compare(o.op, 0, o.operand) for o in node.count + node.sum)


def _compare(op: str, count: float, operand: Any) -> bool:
    """Python evaluation of a count/sum comparison (to know whether zero events satisfy it)."""
    if op == "eq":
        return count == operand
    if op == "ne":
        return count != operand
    if op == "gt":
        return count > operand
    if op == "gte":
        return count >= operand
    if op == "lt":
        return count < operand
    if op == "lte":
        return count <= operand
    if op == "between":
        return operand[0] <= count <= operand[1]
    if op == "in":
        return count in operand
    if op == "not_in":
        return count not in operand
    raise ValueError(op)


class Compiler:
    """Compiles nodes into sqlglot expressions over ``contacts AS c``, collecting joins and parameters."""

    def __init__(self, settings: Settings, as_of: date, *, library: SegmentLibrary | None = None,
                 con: duckdb.DuckDBPyConnection | None = None, summary: bool | None = None) -> None:
        self.settings = settings
        self._summary = summary
        self.as_of = as_of
        self._library = library
        self.con = con
        self.params: dict[str, Any] = {}
        self._count = 0
        self.joins: dict[str, tuple[exp.Expression, exp.Expression]] = {}
        self.stack: list[SegmentSpec] = []
        self._groups: set[str] | None = None

    # --- parameters -------------------------------------------------------
    def param(self, value: Any) -> exp.Placeholder:
        self._count += 1
        name = f"p{self._count}"
        self.params[name] = value
        return exp.Placeholder(this=name)

    def named(self, name: str, value: Any) -> exp.Placeholder:
        self.params[name] = value
        return exp.Placeholder(this=name)

    @property
    def as_of_param(self) -> exp.Placeholder:
        return self.named("as_of", self.as_of)

    @property
    def as_of_end(self) -> exp.Placeholder:
        """The first day after the as-of date: events strictly before it count."""
        return self.named("as_of_end", next_day(self.as_of))

    def date_param(self, value: date | RelativeDate) -> exp.Placeholder:
        return self.param(resolve(value, self.as_of))

    @property
    def summary(self) -> bool:
        """Whether conditions may read ``contact_event_summary`` (checked once, on first use)."""
        if self._summary is None:
            if self.con is None:
                self._summary = False
            else:
                from cli.event_summary import summary_is_usable

                self._summary = summary_is_usable(self.con, self.as_of)
        return self._summary

    def summary_rows(self, types: list[str] | tuple[str, ...] | None) -> exp.Select:
        """``contact_event_summary AS es`` rows of these event types (all when None)."""
        query = exp.select(_col("contact_id")).from_(_table("contact_event_summary", "es"))
        if types:
            query = query.where(_col("type").isin(*[self.param(t) for t in types]))
        return query

    @property
    def library(self) -> SegmentLibrary:
        if self._library is None:
            self._library = library_for(self.settings)
        return self._library

    def where(self, node: Node) -> str:
        if self.stack:
            return self.stack[-1].locate(node.path)
        return "condition"

    # --- field values -----------------------------------------------------
    def join(self, alias: str, subquery: exp.Expression, on_column: str = "contact_id") -> None:
        if alias not in self.joins:
            self.joins[alias] = (subquery, exp.EQ(this=_col(on_column, alias), expression=_col("id", "c")))

    def field_value(self, name: str) -> exp.Expression:
        """The value of field ``name`` for contact ``c`` (joins added as needed)."""
        if name in CONTACT_FIELDS:
            return _col(name, "c")
        if name in self.settings.fields:
            kind = self.settings.fields[name].type
            alias = f"cf_{name}"  # custom field names are validated identifiers
            if alias in self.joins:
                return _col("value", alias)
            sub = (
                exp.select(_col("contact_id"), exp.alias_(exp.func("any_value", _col(CUSTOM_VALUE_COLUMN[kind])), "value", quoted=True))
                .from_(_table("custom_values", "v"))
                .where(exp.EQ(this=_col("field"), expression=self.param(name)))
                .group_by(_col("contact_id"))
            )
            self.join(alias, sub.subquery(alias, copy=False))
            return _col("value", alias)
        if name == "tags":
            sub = (
                exp.select(_col("contact_id"), exp.alias_(_fn("list_sort", exp.func("list", _col("tag"))), "tags", quoted=True))
                .from_(_table("contact_tags", "t"))
                .group_by(_col("contact_id"))
            )
            self.join("tg", sub.subquery("tg", copy=False))
            return _col("tags", "tg")
        if name == "age":
            birth = _col("birth_date", "c")
            birthday = exp.Add(this=exp.Mul(this=exp.func("month", birth), expression=_lit(100)), expression=exp.func("day", birth))
            today = self.named("as_of_md", self.as_of.month * 100 + self.as_of.day)
            not_yet = exp.Case().when(exp.GT(this=birthday, expression=today), _lit(1)).else_(_lit(0))
            years = exp.Sub(this=self.named("as_of_year", self.as_of.year), expression=exp.func("year", birth))
            return exp.paren(exp.Sub(this=years, expression=not_yet), copy=False)
        if name in SCORE_FIELDS:
            self.join("s", _table("contact_scores", "s"))
            return _col(name, "s")
        if name in GIFT_FIELDS and self.summary:
            sub = (
                exp.select(
                    _col("contact_id"),
                    exp.alias_(_col("first_at"), "first_gift_at", quoted=True),
                    exp.alias_(_col("last_at"), "last_gift_at", quoted=True),
                    exp.alias_(_col("amount_total"), "total_given", quoted=True),
                    exp.alias_(_col("event_count"), "gift_count", quoted=True),
                )
                .from_(_table("contact_event_summary", "es"))
                .where(exp.EQ(this=_col("type"), expression=self.named("gift_type", "donation")))
            )
            self.join("g", sub.subquery("g", copy=False))
            if name in ("total_given", "gift_count"):
                return exp.func("coalesce", _col(name, "g"), _lit(0))
            return _col(name, "g")
        if name in GIFT_FIELDS:
            amount = exp.func("coalesce", _col("amount"), _lit(0))
            sub = (
                exp.select(
                    _col("contact_id"),
                    exp.alias_(exp.func("min", _col("occurred_at")), "first_gift_at", quoted=True),
                    exp.alias_(exp.func("max", _col("occurred_at")), "last_gift_at", quoted=True),
                    exp.alias_(exp.Sum(this=amount), "total_given", quoted=True),
                    exp.alias_(exp.Count(this=exp.Star()), "gift_count", quoted=True),
                )
                .from_(_table("events", "e"))
                .where(exp.and_(
                    exp.EQ(this=_col("type"), expression=self.named("gift_type", "donation")),
                    exp.LT(this=_col("occurred_at"), expression=self.as_of_end),
                ))
                .group_by(_col("contact_id"))
            )
            self.join("g", sub.subquery("g", copy=False))
            if name in ("total_given", "gift_count"):
                return exp.func("coalesce", _col(name, "g"), _lit(0))
            return _col(name, "g")
        if name == "last_activity_at":
            if "a" in self.joins:
                return _col("last_activity_at", "a")
            if self.summary:
                types = list(self.settings.cleaning.activity_types)
                sub = (
                    exp.select(_col("contact_id"), exp.alias_(exp.func("max", _col("last_at")), "last_activity_at", quoted=True))
                    .from_(_table("contact_event_summary", "es"))
                    .where(_col("type").isin(*[self.param(t) for t in types] or [exp.null()]))
                    .group_by(_col("contact_id"))
                )
                self.join("a", sub.subquery("a", copy=False))
                return _col("last_activity_at", "a")
            sub = (
                exp.select(_col("contact_id"), exp.alias_(exp.func("max", _col("occurred_at")), "last_activity_at", quoted=True))
                .from_(_table("events", "e"))
                .where(exp.and_(
                    _col("type").isin(*[self.param(t) for t in self.settings.cleaning.activity_types] or [exp.null()]),
                    exp.LT(this=_col("occurred_at"), expression=self.as_of_end),
                ))
                .group_by(_col("contact_id"))
            )
            self.join("a", sub.subquery("a", copy=False))
            return _col("last_activity_at", "a")
        raise SegmentError(f"unknown field `{name}`.")

    # --- conditions ---------------------------------------------------------
    def condition(self, node: Node) -> exp.Expression:
        """A two-valued boolean expression for ``node``."""
        if isinstance(node, AllOf):
            return _all([self.condition(n) for n in node.items])
        if isinstance(node, AnyOf):
            return _any([self.condition(n) for n in node.items])
        if isinstance(node, NotOf):
            return exp.not_(self.condition(node.item))
        if isinstance(node, FieldCondition):
            if node.field == "tags":
                return _all([self.tag_operation(op) for op in node.operations])
            if node.field in SCORE_FIELDS and not any(op.op == "is_null" and op.operand for op in node.operations):
                return self.score_condition(node)
            return _all([self.operation(self.field_value(node.field), node.kind, op) for op in node.operations])
        if isinstance(node, TagCondition):
            return self.in_set(self.tag_query([node.tag]))
        if isinstance(node, EventCondition):
            return self.event(node)
        if isinstance(node, GroupCondition):
            return self.group(node)
        if isinstance(node, SegmentReference):
            return self.segment_reference(node)
        if isinstance(node, StageChange):
            return self.stage_change(node)
        raise TypeError(f"unknown node {node!r}")

    def score_condition(self, node: FieldCondition) -> exp.Expression:
        """A score condition as a semi-join on ``contact_scores`` (faster than joining every contact).

        Exact because each operation is false on a missing score (``is_null: true``, which holds
        there, keeps the join).
        """
        value = _col(node.field, "s")
        query = exp.select(_col("contact_id")).from_(_table("contact_scores", "s")).where(
            _all([self.operation(value, node.kind, op) for op in node.operations])
        )
        return self.in_set(query)

    @staticmethod
    def in_set(query: exp.Select) -> exp.Expression:
        return _col("id", "c").isin(query=query)

    def operation(self, value: exp.Expression, kind: str, operation: Operation) -> exp.Expression:
        op, operand = operation.op, operation.operand
        if op == "is_null":
            empty = exp.Is(this=value, expression=exp.Null())
            if kind == "list":
                empty = exp.EQ(this=exp.func("coalesce", _fn("len", value), _lit(0)), expression=_lit(0))
            return empty if operand else exp.not_(empty)
        if kind == "timestamp":
            value = exp.cast(value, "DATE")
        return _false_if_null(self.predicate(value, kind, op, operand))

    def typed(self, kind: str, operand: Any) -> exp.Expression:
        if kind in ("date", "timestamp") and operand is not None:
            return self.date_param(operand)
        return self.param(operand)

    def predicate(self, value: exp.Expression, kind: str, op: str, operand: Any) -> exp.Expression:
        # sqlglot nodes keep a parent pointer: each use gets its own copy.
        v = value.copy
        comparisons = {"eq": exp.EQ, "ne": exp.NEQ, "gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE,
                       "before": exp.LT, "after": exp.GT}
        if kind == "list":
            if op == "contains":
                return _fn("list_contains", value, self.param(operand))
            if not operand:
                return exp.true() if op == "contains_all" else exp.false()
            name = "list_has_any" if op == "contains_any" else "list_has_all"
            return _fn(name, value, self.param(list(operand)))
        if op in comparisons:
            return comparisons[op](this=v(), expression=self.typed(kind, operand))
        if op in ("in", "not_in"):
            if not operand:
                result: exp.Expression = exp.false()
                # `not_in: []` holds for every non-null value
                return exp.not_(exp.Is(this=v(), expression=exp.Null())) if op == "not_in" else result
            member = v().isin(*[self.typed(kind, item) for item in operand])
            return member if op == "in" else exp.not_(member)
        if op == "between":
            return exp.Between(this=v(), low=self.typed(kind, operand[0]), high=self.typed(kind, operand[1]))
        if op == "within":
            start = self.param(operand.back_from(self.as_of))
            return exp.and_(exp.GTE(this=v(), expression=start), exp.LTE(this=v(), expression=self.as_of_param))
        if op == "older_than":
            return exp.LT(this=v(), expression=self.param(operand.back_from(self.as_of)))
        if op == "birthday_within":
            days = operand.count * (7 if operand.unit == "week" else 1)
            key = exp.Add(this=exp.Mul(this=exp.func("month", v()), expression=_lit(100)), expression=exp.func("day", v()))
            return _fn("list_contains", self.param(birthday_keys(self.as_of, days)), key)
        def lowered() -> exp.Expression:
            return exp.Lower(this=v())

        if op == "contains":
            return _fn("contains", lowered(), exp.Lower(this=self.param(operand)))
        if op == "starts_with":
            return _fn("starts_with", lowered(), exp.Lower(this=self.param(operand)))
        if op == "ends_with":
            return _fn("ends_with", lowered(), exp.Lower(this=self.param(operand)))
        if op in ("contains_any", "contains_all"):
            parts = [_fn("contains", lowered(), exp.Lower(this=self.param(item))) for item in operand]
            return _any(parts) if op == "contains_any" else _all(parts)
        if op == "matches":
            return _fn("regexp_matches", value, self.param(operand))
        raise SegmentError(f"operator `{op}` is not supported here.")

    # --- sets ---------------------------------------------------------------
    def tag_query(self, tags: list[str]) -> exp.Select:
        return (
            exp.select(_col("contact_id")).from_(_table("contact_tags", "t"))
            .where(_col("tag").isin(*[self.param(t) for t in tags]))
        )

    def tag_operation(self, operation: Operation) -> exp.Expression:
        op, operand = operation.op, operation.operand
        if op == "is_null":
            has_any = self.in_set(exp.select(_col("contact_id")).from_(_table("contact_tags", "t")))
            return exp.not_(has_any) if operand else has_any
        if op == "contains":
            return self.in_set(self.tag_query([operand]))
        if not operand:
            return exp.true() if op == "contains_all" else exp.false()
        if op == "contains_any":
            return self.in_set(self.tag_query(list(operand)))
        distinct = list(dict.fromkeys(operand))
        query = self.tag_query(distinct).group_by(_col("contact_id")).having(
            exp.EQ(this=exp.Count(this=exp.Distinct(expressions=[_col("tag")])), expression=_lit(len(distinct)))
        )
        return self.in_set(query)

    def event_filters(self, node: EventCondition) -> list[exp.Expression]:
        filters: list[exp.Expression] = []
        if node.types:
            filters.append(_col("type").isin(*[self.param(t) for t in node.types]))
        if node.within is not None:
            filters.append(exp.GTE(this=_col("occurred_at"), expression=self.param(node.within.back_from(self.as_of))))
        if node.since is not None:
            filters.append(exp.GTE(this=_col("occurred_at"), expression=self.date_param(node.since)))
        if node.until is not None:
            until = next_day(resolve(node.until, self.as_of))
            filters.append(exp.LT(this=_col("occurred_at"), expression=self.param(until)))
        filters.append(exp.LT(this=_col("occurred_at"), expression=self.as_of_end))
        for column in ("campaign", "channel", "payment_method"):
            values = getattr(node, column)
            if values:
                filters.append(_col(column).isin(*[self.param(v) for v in values]))
        return filters

    def event_aggregate(self, node: EventCondition) -> exp.Expression | None:
        """The HAVING predicate of count/sum comparisons, None for the default `count >= 1`."""
        parts: list[exp.Expression] = []
        amount = exp.Sum(this=exp.func("coalesce", _col("amount"), _lit(0)))
        for source, operations in ((exp.Count(this=exp.Star()), node.count), (amount, node.sum)):
            for operation in operations:
                parts.append(self.predicate(source.copy(), "number", operation.op, operation.operand))
        return _all(parts) if parts else None

    def summary_event(self, node: EventCondition) -> exp.Expression | None:
        """The event condition answered from the summary, None when the summary cannot answer it exactly."""
        if not self.summary or node.until is not None or node.campaign or node.channel or node.payment_method:
            return None
        windowed = node.within is not None or node.since is not None
        if windowed and (node.count or node.sum):
            return None  # counts and sums inside a window need the events themselves
        query = self.summary_rows(node.types)
        if not node.count and not node.sum:
            # At least one matching event: one within the window is the last one being in it.
            if node.within is not None:
                query = query.where(exp.GTE(this=_col("last_at"), expression=self.param(node.within.back_from(self.as_of))))
            if node.since is not None:
                query = query.where(exp.GTE(this=_col("last_at"), expression=self.date_param(node.since)))
            return self.in_set(query)
        parts: list[exp.Expression] = []
        for source, operations in ((exp.Sum(this=_col("event_count")), node.count),
                                   (exp.Sum(this=_col("amount_total")), node.sum)):
            for operation in operations:
                parts.append(self.predicate(source.copy(), "number", operation.op, operation.operand))
        having = _all(parts)
        query = query.group_by(_col("contact_id"))
        if _zero_events_hold(node):
            return exp.not_(self.in_set(query.having(exp.not_(_false_if_null(having)))))
        return self.in_set(query.having(_false_if_null(having)))

    def event(self, node: EventCondition) -> exp.Expression:
        answered = self.summary_event(node)
        if answered is not None:
            return answered
        query = exp.select(_col("contact_id")).from_(_table("events", "e")).where(_all(self.event_filters(node)))
        having = self.event_aggregate(node)
        if having is None:
            return self.in_set(query)
        query = query.group_by(_col("contact_id"))
        if _zero_events_hold(node):
            # Contacts with no matching event satisfy it: exclude those whose events fail it.
            return exp.not_(self.in_set(query.having(exp.not_(_false_if_null(having)))))
        return self.in_set(query.having(_false_if_null(having)))

    def stage_change(self, node: StageChange) -> exp.Expression:
        filters: list[exp.Expression] = [exp.LTE(this=_col("changed_at"), expression=self.as_of_param)]
        if node.to is not None:
            filters.append(exp.EQ(this=_col("stage"), expression=self.param(node.to)))
        if node.from_ is not None:
            filters.append(exp.EQ(this=_col("previous_stage"), expression=self.param(node.from_)))
        if node.within is not None:
            filters.append(exp.GTE(this=_col("changed_at"), expression=self.param(node.within.back_from(self.as_of))))
        return self.in_set(exp.select(_col("contact_id")).from_(_table("stage_history", "h")).where(_all(filters)))

    def group(self, node: GroupCondition) -> exp.Expression:
        if self.con is not None:
            if self._groups is None:
                self._groups = {r[0] for r in self.con.execute("SELECT name FROM groups").fetchall()}
            if node.group not in self._groups:
                raise SegmentError(f"{self.where(node)}: unknown group `{node.group}`{hint(node.group, self._groups)}"
                                   f"{'' if hint(node.group, self._groups) else ' (`crmseg group list` shows them)'}")
        query = (
            exp.select(_col("contact_id", "gm")).from_(_table("group_members", "gm"))
            .join(_table("groups", "gr"), on=exp.EQ(this=_col("id", "gr"), expression=_col("group_id", "gm")))
            .where(exp.EQ(this=_col("name", "gr"), expression=self.param(node.group)))
        )
        return self.in_set(query)

    def segment_reference(self, node: SegmentReference) -> exp.Expression:
        names = [s.name for s in self.stack]
        if node.segment in names:
            cycle = " -> ".join(names[names.index(node.segment):] + [node.segment])
            raise SegmentError(f"{self.where(node)}: `in_segment` makes a cycle ({cycle}); a segment "
                               "cannot contain itself.")
        library = self.library
        if node.segment not in library.segments:
            if node.segment in library.errors:
                raise SegmentError(f"{self.where(node)}: `in_segment: {node.segment}` names an invalid segment:\n"
                                   f"{library.errors[node.segment]}")
            raise SegmentError(f"{self.where(node)}: unknown segment `{node.segment}`"
                               f"{hint(node.segment, library.names) or ' (`crmseg segment list` shows them)'}")
        return self.segment_where(library.segments[node.segment])

    def segment_where(self, spec: SegmentSpec) -> exp.Expression:
        self.stack.append(spec)
        try:
            return self.condition(spec.where)
        finally:
            self.stack.pop()

    # --- purpose rules --------------------------------------------------------
    def alive(self) -> exp.Expression:
        """Not suppressed as deceased: a person who has died is written to by no channel."""
        reason = exp.EQ(this=_col("status_reason", "c"), expression=self.named("deceased", "deceased"))
        return exp.not_(_false_if_null(reason))

    def purpose_rules(self, purpose: str, include_inactive: bool = False) -> list[tuple[str, exp.Expression]]:
        """The named conditions a contact must meet to be exported for ``purpose`` (SPEC §5)."""
        status = _col("status", "c")
        if purpose in ("analysis", "postal", "phone"):
            live = exp.not_(status.isin(self.named("gone_status_1", "merged"), self.named("gone_status_2", "erased")))
        if purpose == "analysis":
            return [("not merged or erased", live)]
        if purpose == "postal":
            street = exp.not_(exp.Is(this=_col("street", "c"), expression=exp.Null()))
            town = exp.or_(exp.not_(exp.Is(this=_col("postal_code", "c"), expression=exp.Null())),
                           exp.not_(exp.Is(this=_col("city", "c"), expression=exp.Null())))
            return [("not merged or erased", live), ("not deceased", self.alive()), ("has a postal address", exp.and_(street, town))]
        if purpose == "phone":
            has_phone = exp.not_(exp.Is(this=_col("phone", "c"), expression=exp.Null()))
            barred = exp.and_(
                exp.not_(exp.Is(this=_col("phone_key", "c"), expression=exp.Null())),
                _col("phone_key", "c").isin(query=exp.select(_col("key")).from_(_table("suppressions", "sp"))),
            )
            return [("not merged or erased", live), ("not deceased", self.alive()), ("has a phone", has_phone),
                    ("phone not suppressed", exp.not_(barred))]
        # email
        rules: list[tuple[str, exp.Expression]] = [
            ("status active", exp.EQ(this=status, expression=self.named("active_status", "active"))),
            ("has an email", exp.not_(exp.Is(this=_col("email", "c"), expression=exp.Null()))),
        ]
        consent_flag = _col("consent_email", "c")
        implied = exp.and_(
            exp.Is(this=consent_flag, expression=exp.Null()),
            _col("consent_basis", "c").isin(*[self.named(f"implied_basis_{i + 1}", b) for i, b in enumerate(IMPLIED_CONSENT_BASES)]),
        )
        withdrawn = _col("consent_withdrawn_at", "c")
        not_withdrawn = exp.or_(
            exp.Is(this=withdrawn, expression=exp.Null()),
            _false_if_null(exp.GT(this=_col("consent_at", "c"), expression=withdrawn)),
        )
        rules.append(("consents to email", _false_if_null(exp.and_(exp.or_(exp.EQ(this=consent_flag, expression=exp.true()), implied), not_withdrawn))))
        suppressed = exp.or_(
            exp.Is(this=_col("email_key", "c"), expression=exp.Null()),
            _col("email_key", "c").isin(query=exp.select(_col("key")).from_(_table("suppressions", "sp"))),
        )
        rules.append(("email not suppressed", exp.not_(suppressed)))
        unusable = [self.named(f"unusable_quality_{i}", q) for i, q in enumerate(UNUSABLE_EMAIL_QUALITIES)]
        rules.append(("email not invalid", exp.not_(_false_if_null(_col("email_quality", "c").isin(*unusable)))))
        if self.summary:
            # Some stop event after the consent date is the last one of its type being after it.
            stop = (
                exp.select(_lit(1)).from_(_table("contact_event_summary", "se"))
                .where(exp.and_(
                    exp.EQ(this=_col("contact_id", "se"), expression=_col("id", "c")),
                    _col("type", "se").isin(*[self.named(f"stop_type_{i + 1}", t) for i, t in enumerate(EMAIL_STOP_EVENTS)]),
                    exp.or_(exp.Is(this=_col("consent_at", "c"), expression=exp.Null()),
                            exp.GT(this=_col("last_at", "se"), expression=_col("consent_at", "c"))),
                ))
            )
            rules.append(("no unsubscribe, complaint or hard bounce since consent", exp.not_(exp.Exists(this=stop))))
            if not include_inactive:
                rules.append(("not flagged inactive", exp.not_(_false_if_null(_col("is_inactive", "c")))))
            return rules
        stop = (
            exp.select(_lit(1)).from_(_table("events", "se"))
            .where(exp.and_(
                exp.EQ(this=_col("contact_id", "se"), expression=_col("id", "c")),
                _col("type", "se").isin(*[self.named(f"stop_type_{i + 1}", t) for i, t in enumerate(EMAIL_STOP_EVENTS)]),
                exp.LT(this=_col("occurred_at", "se"), expression=self.as_of_end),
                exp.or_(exp.Is(this=_col("consent_at", "c"), expression=exp.Null()),
                        exp.GT(this=_col("occurred_at", "se"), expression=_col("consent_at", "c"))),
            ))
        )
        rules.append(("no unsubscribe, complaint or hard bounce since consent", exp.not_(exp.Exists(this=stop))))
        if not include_inactive:
            rules.append(("not flagged inactive", exp.not_(_false_if_null(_col("is_inactive", "c")))))
        return rules

    # --- queries --------------------------------------------------------------
    def select(self, columns: list[tuple[str, exp.Expression]], where: exp.Expression,
               order: bool = False) -> exp.Select:
        query = exp.select(*[exp.alias_(e, name, quoted=True) for name, e in columns]).from_(_table("contacts", "c"))
        for alias, (subquery, on) in self.joins.items():
            query = query.join(subquery, on=on, join_type="left")
        query = query.where(where)
        if order:
            query = query.order_by(_col("id", "c"))
        return query

    def render(self, query: exp.Expression, pretty: bool = True) -> CompiledQuery:
        sql = query.sql(dialect=DIALECT, pretty=pretty)
        return CompiledQuery(sql=sql, params=dict(self.params))


def compile_condition(condition: Any, *, settings: Settings, as_of: date,
                      con: duckdb.DuckDBPyConnection | None = None,
                      library: SegmentLibrary | None = None) -> CompiledQuery:
    """Compile one segment condition (a mapping) into a query of the contacts it holds.

    The query selects one column, ``contact_id``, over every contact row
    (whatever its status: no purpose rule applies). Parameters are named
    (``$p1``, ``$as_of`` ...) and given as a dict, so run it with
    ``con.execute(compiled.sql, compiled.params)``. An invalid condition
    raises ``cli.errors.SegmentError``. ``in_segment`` is resolved against
    ``settings.segments_path``; with ``con``, group names are checked.

    >>> from cli.settings import Settings
    >>> q = compile_condition({"tag": "newsletter"}, settings=Settings(), as_of=date(2026, 1, 31))
    >>> q.params
    {'p1': 'newsletter'}
    """
    node = parse_condition(condition, settings)
    compiler = Compiler(settings, as_of, library=library, con=con)
    where = compiler.condition(node)
    return compiler.render(compiler.select([("contact_id", _col("id", "c"))], where))


def compile_segment(spec: SegmentSpec, *, settings: Settings, as_of: date,
                    library: SegmentLibrary | None = None,
                    con: duckdb.DuckDBPyConnection | None = None,
                    purpose: bool = True, summary: bool | None = None) -> CompiledQuery:
    """The members of a segment: its ``where`` and (unless ``purpose=False``) its purpose rules.

    >>> from cli.segmenting.loader import load_segment_text
    >>> from cli.settings import Settings
    >>> spec = load_segment_text("where: {city: Lyon}\\npurpose: analysis", Settings())
    >>> "COALESCE(\\"c\\".\\"city\\" = $p1, FALSE)" in compile_segment(spec, settings=Settings(), as_of=date(2026, 1, 1)).sql
    True
    """
    compiler = Compiler(settings, as_of, library=library, con=con, summary=summary)
    parts = [compiler.segment_where(spec)]
    if purpose:
        parts.extend(rule for _, rule in compiler.purpose_rules(spec.purpose, spec.include_inactive))
    return compiler.render(compiler.select([("contact_id", _col("id", "c"))], _all(parts)))


def library_errors(library: SegmentLibrary, *, settings: Settings, as_of: date) -> dict[str, str]:
    """Why each segment of ``library`` cannot run, by name: its file's error, or its
    ``in_segment`` cycle or unknown reference (found by compiling it, without a database)."""
    errors = dict(library.errors)
    for name, spec in library.segments.items():
        try:
            compile_segment(spec, settings=settings, as_of=as_of, library=library)
        except SegmentError as e:
            errors[name] = str(e)
    return errors
