"""``crmseg tag add|remove|list``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cli.commands.common import app_context, contacts_count, emit_selection_change, table
from cli.store import transaction

app = typer.Typer(help="Add, remove and count tags.\n\nExample: crmseg tag add benevole --file benevoles.csv", no_args_is_help=True)

EMAIL_OPTION = typer.Option(None, "--email", "-e", help="A contact's email (repeatable).")
FILE_OPTION = typer.Option(None, "--file", "-f", help="A file of emails: one per line, a CSV with an email column, or a workbook (repeatable).")
SEGMENT_OPTION = typer.Option(None, "--segment", "-s", help="Every contact the segment's `where` matches at --as-of.")
SKIP_OPTION = typer.Option(False, "--skip-unknown", help="Act on the known emails and count the unknown ones instead of refusing.")


def _change(ctx: typer.Context, tag: str, emails, files, segment, skip_unknown: bool, adding: bool) -> None:
    from cli.tagging import add_tag, clean_tag_name, remove_tag
    from cli.targets import select_contacts

    app = app_context(ctx)
    tag = clean_tag_name(tag)
    con = app.connect()
    with transaction(con):
        targets = select_contacts(
            con, app.settings, app.as_of, emails=emails, files=files, segment=segment, skip_unknown=skip_unknown
        )
        change = add_tag(con, tag, targets.contact_ids) if adding else remove_tag(con, tag, targets.contact_ids)
    verb = "added to" if adding else "removed from"
    emit_selection_change(app, "tag", change.tag, change, targets.unknown, adding,
                          f"Tag `{change.tag}` {verb} {contacts_count(change.changed)} ({change.unchanged} unchanged).")


@app.command("add")
def add(
    ctx: typer.Context,
    tag: str = typer.Argument(..., help="The tag name."),
    email: Optional[list[str]] = EMAIL_OPTION,
    file: Optional[list[Path]] = FILE_OPTION,
    segment: Optional[str] = SEGMENT_OPTION,
    skip_unknown: bool = SKIP_OPTION,
) -> None:
    """Give TAG to contacts chosen by --email, --file or --segment.

    Contacts that have the tag already are left as they are.

    Example: crmseg tag add benevole --email marie@example.org --file volunteers.csv
    """
    _change(ctx, tag, email, file, segment, skip_unknown, adding=True)


@app.command("remove")
def remove(
    ctx: typer.Context,
    tag: str = typer.Argument(..., help="The tag name."),
    email: Optional[list[str]] = EMAIL_OPTION,
    file: Optional[list[Path]] = FILE_OPTION,
    segment: Optional[str] = SEGMENT_OPTION,
    skip_unknown: bool = SKIP_OPTION,
) -> None:
    """Take TAG off contacts chosen by --email, --file or --segment.

    Example: crmseg tag remove newsletter --file unsubscribed.txt
    """
    _change(ctx, tag, email, file, segment, skip_unknown, adding=False)


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List the tags with their number of live contacts, most used first.

    Example: crmseg tag list --json
    """
    from cli.tagging import list_tags

    app = app_context(ctx)
    tags = list_tags(app.connect())

    def render(console) -> None:
        if not tags:
            console.print("No tags yet. Add one with `crmseg tag add TAG --email EMAIL`.")
            return
        console.print(
            table("Tags", ["tag", "contacts", "share"], [[t["tag"], t["contacts"], f"{t['share']:.1%}"] for t in tags])
        )

    app.emit({"tags": tags}, render)
