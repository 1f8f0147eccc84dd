"""``crmseg group create|update|delete|list|show|add|remove``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cli.commands.common import app_context, contacts_count, emit_selection_change, table
from cli.commands.tag import EMAIL_OPTION, FILE_OPTION, SEGMENT_OPTION, SKIP_OPTION
from cli.store import transaction

app = typer.Typer(help="Static groups: lists of contacts kept by hand, with their own fields.\n\nExample: crmseg group add conseil --email marie.dupont@example.org", no_args_is_help=True)

FIELD_OPTION = typer.Option(None, "--field", help="A group field as key=value (repeatable), e.g. address='12 rue X'.")


def _fields_text(fields: dict) -> str:
    return "; ".join(f"{k}={v}" for k, v in fields.items())


@app.command("create")
def create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The group name."),
    description: Optional[str] = typer.Option(None, "--description", "-d", help="What the group is for."),
    field: Optional[list[str]] = FIELD_OPTION,
) -> None:
    """Create an empty group, with a description and fields of its own.

    Example: crmseg group create conseil-2026 --description "Board" --field address="3 place X, Lyon"
    """
    from cli.groups import create_group, parse_field_pairs

    app = app_context(ctx)
    fields = parse_field_pairs(field or [])
    con = app.connect()
    with transaction(con):
        group = create_group(con, name, description=description, fields=fields)
    group.pop("id", None)
    app.emit(group, lambda console: console.print(f"Group `{group['name']}` created."))


@app.command("update")
def update(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The group name."),
    description: Optional[str] = typer.Option(None, "--description", "-d", help="A new description."),
    field: Optional[list[str]] = typer.Option(None, "--field", help="Set a field as key=value; key= removes it (repeatable)."),
) -> None:
    """Change a group's description or fields; members stay as they are.

    Example: crmseg group update conseil-2026 --field notes="meets monthly" --field address=
    """
    from cli.groups import parse_field_pairs, update_group

    app = app_context(ctx)
    fields = parse_field_pairs(field or [])
    con = app.connect()
    with transaction(con):
        group = update_group(con, name, description=description, fields=fields)
    group.pop("id", None)
    app.emit(group, lambda console: console.print(f"Group `{group['name']}` updated: {_fields_text(group['fields'])}"))


@app.command("delete")
def delete(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The group name."),
    force: bool = typer.Option(False, "--force", help="Delete the group even when it has members (the contacts stay)."),
) -> None:
    """Delete a group (with --force when it has members; the contacts stay).

    Example: crmseg group delete conseil-2025 --force
    """
    from cli.groups import clean_group_name, delete_group

    app = app_context(ctx)
    con = app.connect()
    with transaction(con):
        members = delete_group(con, name, force=force)
    data = {"group": clean_group_name(name), "deleted": True, "memberships_removed": members}
    app.emit(data, lambda console: console.print(f"Group `{data['group']}` deleted ({members} memberships removed)."))


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List the groups with their number of live members.

    Example: crmseg group list
    """
    from cli.groups import list_groups

    app = app_context(ctx)
    groups = list_groups(app.connect())

    def render(console) -> None:
        if not groups:
            console.print("No groups yet. Create one with `crmseg group create NAME`.")
            return
        console.print(
            table(
                "Groups",
                ["group", "members", "description", "fields"],
                [[g["name"], g["members"], g["description"], _fields_text(g["fields"])] for g in groups],
            )
        )

    app.emit({"groups": groups}, render)


@app.command("show")
def show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The group name."),
    limit: int = typer.Option(100, "--limit", min=1, help="Show at most this many members."),
    events: int = typer.Option(3, "--events", min=0, help="Recent interactions to show per member."),
) -> None:
    """Show a group, its fields, and its members with their recent interactions.

    Events after --as-of are left out.

    Example: crmseg group show conseil-2026 --events 5
    """
    from cli.groups import show_group

    app = app_context(ctx)
    group = show_group(app.connect(), name, as_of=app.as_of, limit=limit, events_per_member=events)

    def render(console) -> None:
        console.print(f"Group `{group['name']}`: {group['member_count']} members")
        if group["description"]:
            console.print(group["description"])
        for key, value in group["fields"].items():
            console.print(f"  {key}: {value}")
        rows = []
        for m in group["members"]:
            name_text = " ".join(p for p in (m["first_name"], m["last_name"]) if p) or m["organisation"] or ""
            recent = ", ".join(f"{e['type']} {e['occurred_at']:%Y-%m-%d}" for e in m["last_events"])
            rows.append([m["email"], name_text, m["city"], m["status"], m["event_count"], recent])
        if rows:
            console.print(table(None, ["email", "name", "city", "status", "events", "recent interactions"], rows))
        if group["shown"] < group["member_count"]:
            console.print(f"... {group['member_count'] - group['shown']} more (use --limit).")

    app.emit(group, render)


def _members(ctx: typer.Context, name, emails, files, segment, skip_unknown: bool, adding: bool) -> None:
    from cli.groups import add_members, group_by_name, remove_members
    from cli.targets import select_contacts

    app = app_context(ctx)
    con = app.connect()
    with transaction(con):
        group_by_name(con, name)  # an unknown group is the first thing to say
        targets = select_contacts(
            con, app.settings, app.as_of, emails=emails, files=files, segment=segment, skip_unknown=skip_unknown
        )
        change = add_members(con, name, targets.contact_ids) if adding else remove_members(con, name, targets.contact_ids)
    verb = "added to" if adding else "removed from"
    emit_selection_change(app, "group", change.group, change, targets.unknown, adding,
                          f"{contacts_count(change.changed)} {verb} `{change.group}` ({change.unchanged} unchanged).")


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The group name."),
    email: Optional[list[str]] = EMAIL_OPTION,
    file: Optional[list[Path]] = FILE_OPTION,
    segment: Optional[str] = SEGMENT_OPTION,
    skip_unknown: bool = SKIP_OPTION,
) -> None:
    """Add contacts chosen by --email, --file or --segment to a group.

    A segment is evaluated once, now: later runs do not change the group.

    Example: crmseg group add conseil-2026 --email marie@example.org --email paul@example.org
    """
    _members(ctx, name, email, file, segment, skip_unknown, adding=True)


@app.command("remove")
def remove(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The group name."),
    email: Optional[list[str]] = EMAIL_OPTION,
    file: Optional[list[Path]] = FILE_OPTION,
    segment: Optional[str] = SEGMENT_OPTION,
    skip_unknown: bool = SKIP_OPTION,
) -> None:
    """Take contacts chosen by --email, --file or --segment out of a group.

    Example: crmseg group remove conseil-2026 --email paul@example.org
    """
    _members(ctx, name, email, file, segment, skip_unknown, adding=False)
