"""``crmseg dupes``: review, merge and undo duplicate contacts."""

from __future__ import annotations

from typing import Optional

import typer

from cli.commands.common import MORE_ROWS, SCREEN_ROWS, app_context, contacts_count, screen_limit, table

# cli.cleaning (rapidfuzz, numpy) is imported inside each command so that the
# other commands start without paying for it.

app = typer.Typer(help="Review fuzzy duplicate candidates, merge them, undo a merge.\n\nExample: crmseg dupes list", no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    min_score: Optional[float] = typer.Option(None, "--min-score", min=0, max=1, help="Only pairs at or above this score."),
    limit: Optional[int] = typer.Option(
        None, "--limit", min=1, help=f"At most this many pairs or merges (default: {SCREEN_ROWS} on screen, all under --json)."
    ),
    merges: bool = typer.Option(False, "--merges", help="List the merges made (for `dupes undo`) instead of pairs."),
) -> None:
    """List pending duplicate pairs, best first, with their score and the fields that agreed.

    Example: crmseg dupes list --min-score 0.9
    """
    from cli.cleaning import review

    app_ = app_context(ctx)
    con = app_.connect()
    shown = screen_limit(app_, limit)
    # One row more than shown says whether there are more.
    fetch = shown + 1 if shown is not None else None
    if merges:
        rows = review.list_merges(con, fetch)

        def render_merges(console) -> None:
            console.print(table(
                "Merges", ["merge", "kept", "absorbed", "when", "score", "rule", "undone"],
                [[r["merge_id"], r["kept_id"], r["absorbed_id"], f"{r['merged_at']:%Y-%m-%d %H:%M}",
                  f"{r['score']:.3f}" if r["score"] is not None else "", r["rule"],
                  f"{r['undone_at']:%Y-%m-%d}" if r["undone_at"] else ""] for r in rows[:shown]]))
            if shown is not None and len(rows) > shown:
                console.print(f"The latest {shown} merges. " + MORE_ROWS)

        app_.emit(rows[:shown], render_merges)
        return
    pairs = review.list_pairs(con, min_score=min_score, limit=fetch)

    def render(console) -> None:
        rows = [
            [p["pair_id"], f"{p['score']:.3f}", ", ".join(p["matched_fields"]),
             f"#{p['a']['id']} {p['a']['name']} <{p['a']['email'] or ''}> {p['a']['postal_code'] or ''}",
             f"#{p['b']['id']} {p['b']['name']} <{p['b']['email'] or ''}> {p['b']['postal_code'] or ''}"]
            for p in pairs[:shown]
        ]
        more = shown is not None and len(pairs) > shown
        title = f"the best {shown} pending pairs" if more else f"{len(pairs)} pending pairs"
        console.print(table(title, ["pair", "score", "agreed", "contact a", "contact b"], rows))
        if more:
            console.print(MORE_ROWS)

    app_.emit(pairs[:shown], render)


@app.command("show")
def show(ctx: typer.Context, pair_id: int = typer.Argument(..., help="The pair id from `dupes list`.")) -> None:
    """Show both contacts of a pair side by side, with what a merge would keep.

    Besides the fields: their tags, groups, events (by type) and custom
    values, and the contact `dupes merge` would leave (which record is kept,
    with the values it takes from the other).

    Example: crmseg dupes show 12
    """
    from cli.cleaning import review

    app_ = app_context(ctx)
    data = review.show_pair(app_.connect(), pair_id)

    def cell(value) -> str:
        return "" if value is None else str(value)

    def render(console) -> None:
        merged = data["merged"]
        sides = [data["a"], data["b"]] + ([merged] if merged else [])
        rows = [[f["field"], cell(f["a"]), cell(f["b"])] + ([cell(merged["record"][f["field"]])] if merged else [])
                for f in data["fields"]]
        rows.append(["tags"] + [", ".join(s["tags"]) for s in sides])
        rows.append(["groups"] + [", ".join(s["groups"]) for s in sides])
        rows.append(["events"] + [
            f"{s['events']}" + (f" ({', '.join(f'{k} {v}' for k, v in s['events_by_type'].items())})" if s["events"] else "")
            for s in sides])
        rows.append(["custom values"] + [str(s["custom_values"]) for s in sides])
        ids = [f["a"] for f in data["fields"] if f["field"] == "id"] + [f["b"] for f in data["fields"] if f["field"] == "id"]
        columns = ["field", f"a (#{ids[0]})", f"b (#{ids[1]})"]
        if merged:
            columns.append(f"after merge (#{merged['kept_id']} kept)")
        console.print(table(
            f"Pair {pair_id}: score {data['score']:.3f} ({data['status']}); agreed: {', '.join(data['matched_fields'])}",
            columns, rows))
        if data["problem"]:
            console.print(data["problem"])
        elif merged:
            console.print(f"`crmseg dupes merge {pair_id}` keeps #{merged['kept_id']} and absorbs #{merged['absorbed_id']}.")

    app_.emit(data, render)


@app.command("merge")
def merge(
    ctx: typer.Context,
    pair_id: Optional[int] = typer.Argument(None, help="The pair id from `dupes list`."),
    all_: bool = typer.Option(False, "--all", help="Merge every pending pair at or above --min-score."),
    min_score: Optional[float] = typer.Option(None, "--min-score", min=0, max=1, help="With --all (default: the review threshold)."),
) -> None:
    """Merge one pair, or every pending pair at or above a score; each merge can be undone.

    Example: crmseg dupes merge --all --min-score 0.9
    """
    from cli.cleaning import review

    app_ = app_context(ctx)
    if all_ == (pair_id is not None):
        raise typer.BadParameter("give either a PAIR_ID or --all (with --min-score).")
    con = app_.connect()
    if all_:
        threshold = min_score if min_score is not None else app_.settings.duplicates.review_threshold
        data = review.merge_all(con, threshold)
        app_.emit(data, lambda console: console.print(
            f"Merged {contacts_count(data['merges'])} from {data['pairs']} pair(s) scored {threshold} or more."))
        return
    data = review.merge_pair(con, pair_id)
    app_.emit(data, lambda console: console.print(
        f"Merged contact #{data['absorbed_id']} into #{data['kept_id']} (merge {data['merge_ids'][0] if data['merge_ids'] else '-'}; "
        f"undo with `crmseg dupes undo {data['merge_ids'][0] if data['merge_ids'] else ''}`)."))


@app.command("undo")
def undo(ctx: typer.Context, merge_id: int = typer.Argument(..., help="The merge id (`dupes list --merges`).")) -> None:
    """Undo a merge: both contacts are restored exactly as they were, and the pair is not merged again.

    Example: crmseg dupes undo 7
    """
    from cli.cleaning import review

    app_ = app_context(ctx)
    data = review.undo(app_.connect(), merge_id)
    app_.emit(data, lambda console: console.print(
        f"Merge {merge_id} undone: contacts #{data['kept_id']} and #{data['absorbed_id']} restored."))
