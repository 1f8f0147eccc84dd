"""``crmseg segment list|show|validate|run|explain|diff|overlap``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.text import Text

from cli.commands.common import (
    MORE_ROWS,
    SCREEN_ROWS,
    AppContext,
    app_context,
    contacts_count,
    screen_limit,
    shown_title,
    table,
)
from cli.errors import InputError, SegmentError

# The segment library (sqlglot, Polars) is imported inside each command so
# that every other crmseg command starts without paying for it.

app = typer.Typer(help="Segments: define, check, run and export dynamic lists.\n\nExample: crmseg segment run --all --out-dir lists/", no_args_is_help=True)


def _locked_connection(app_ctx: AppContext):
    from cli.segmenting.runner import restrict_external_access

    con = app_ctx.connect()
    restrict_external_access(con)
    return con


@app.command("list")
def list_segments(ctx: typer.Context) -> None:
    """List the segments of the segments folder with their purpose and size at the last run.

    Example: crmseg segment list
    """
    from cli.segmenting import library_for
    from cli.segmenting.compiler import library_errors
    from cli.segmenting.runner import last_runs

    app_ctx = app_context(ctx)
    library = library_for(app_ctx.settings)
    errors = library_errors(library, settings=app_ctx.settings, as_of=app_ctx.as_of)
    runs = last_runs(app_ctx.connect())
    data = []
    for name in library.names:
        spec = library.segments.get(name)
        last = runs.get(name, {})
        data.append({
            "name": name,
            "description": spec.description if spec else None,
            "purpose": spec.purpose if spec else None,
            "valid": name not in errors,
            "error": errors.get(name),
            "last_run_members": last.get("members"),
            "last_run_at": last.get("run_at"),
            "file": str(library.files.get(name, "")),
        })

    def render(console) -> None:
        if not data:
            console.print(f"No segments in {app_ctx.settings.segments_path}.")
            return
        rows = [[d["name"], d["purpose"] if d["valid"] else "invalid", d["description"] or "",
                 d["last_run_members"] if d["last_run_members"] is not None else "-",
                 d["last_run_at"].strftime("%Y-%m-%d %H:%M") if d["last_run_at"] else "never"] for d in data]
        console.print(table(f"Segments in {app_ctx.settings.segments_path}",
                            ["name", "purpose", "description", "size at last run", "last run"], rows))

    app_ctx.emit({"segments": data}, render)


@app.command("show")
def show(ctx: typer.Context, name: str = typer.Argument(..., help="Segment name.")) -> None:
    """Show a segment: its definition, the SQL it compiles to, and how many contacts it holds now.

    Example: crmseg segment show relance-animaux
    """
    from cli.segmenting import compile_segment, library_for
    from cli.segmenting.runner import count_members

    app_ctx = app_context(ctx)
    library = library_for(app_ctx.settings)
    spec = library.get(name)
    con = _locked_connection(app_ctx)
    # Counting first brings the scores and the event summary up to date, so the SQL shown is the one that ran.
    count = count_members(con, spec, settings=app_ctx.settings, as_of=app_ctx.as_of, library=library)
    compiled = compile_segment(spec, settings=app_ctx.settings, as_of=app_ctx.as_of, library=library, con=con)
    text = spec.source.read_text(encoding="utf-8-sig") if spec.source else ""
    data = {"name": spec.name, "file": str(spec.source), "purpose": spec.purpose, "as_of": app_ctx.as_of,
            "definition": spec.definition, "sql": compiled.sql, "params": compiled.params, "members": count}

    def render(console) -> None:
        console.print(Text.assemble((spec.name, "bold"), f" ({spec.source})"))
        console.print(text.rstrip(), markup=False)
        console.print("\n-- SQL (as of " + app_ctx.as_of.isoformat() + ")", markup=False)
        console.print(compiled.sql, markup=False)
        console.print("-- parameters: " + ", ".join(f"${k} = {v!r}" for k, v in compiled.params.items()), markup=False)
        console.print(f"\n{contacts_count(count)} now.")

    app_ctx.emit(data, render)


def _files_of(paths: list[Path]) -> list[Path]:
    from cli.segmenting.loader import SEGMENT_SUFFIXES

    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in SEGMENT_SUFFIXES and p.is_file()))
        elif path.exists():
            files.append(path)
        else:
            raise InputError(f"{path}: no such file or folder.")
    return files


@app.command("validate")
def validate(ctx: typer.Context,
             paths: Optional[list[Path]] = typer.Argument(None, help="Segment files or folders (default: the segments folder).")) -> None:
    """Check segment files without running them: fields, operators, values, references, cycles.

    Exits 2 when any file is invalid, naming the file, the line and the problem.

    Example: crmseg segment validate segments/relance-animaux.yaml
    """
    from cli.segmenting import compile_segment, library_for, load_segment_file
    from cli.segmenting.loader import SegmentLibrary

    app_ctx = app_context(ctx)
    settings = app_ctx.settings
    library = library_for(settings)
    if paths:
        checked = SegmentLibrary(folder=library.folder, segments=dict(library.segments), files=dict(library.files))
        targets = []
        for file in _files_of(paths):
            try:
                spec = load_segment_file(file, settings)
                checked.segments[spec.name] = spec
                targets.append((spec.name, file, None))
            except SegmentError as e:
                targets.append((file.stem, file, str(e)))
        library = checked
    else:
        targets = [(n, library.files.get(n), library.errors.get(n)) for n in library.names]
    con = _locked_connection(app_ctx) if app_ctx.db_path.exists() else None
    results = []
    for name, file, error in targets:
        if error is None:
            try:
                compile_segment(library.segments[name], settings=settings, as_of=app_ctx.as_of, library=library, con=con)
            except SegmentError as e:
                error = str(e)
        results.append({"name": name, "file": str(file) if file else None, "valid": error is None, "error": error})
    bad = [r for r in results if not r["valid"]]

    def render(console) -> None:
        if not results:
            console.print(f"No segments in {library.folder}: nothing to check.")
        for r in results:
            console.print(f"{'ok     ' if r['valid'] else 'INVALID'} {r['name']} ({r['file']})", markup=False)

    app_ctx.emit({"segments": results, "valid": not bad}, render)
    if bad:
        raise SegmentError("\n".join(r["error"] for r in bad))


@app.command("run")
def run(
    ctx: typer.Context,
    names: Optional[list[str]] = typer.Argument(None, help="Segment names."),
    all_segments: bool = typer.Option(False, "--all", help="Run every segment of the segments folder."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the list to this file (one segment)."),
    out_dir: Optional[Path] = typer.Option(None, "--out-dir", help="Write one list per segment into this folder."),
    fmt: Optional[str] = typer.Option(None, "--format", help="csv | xlsx | json | parquet (default: from --out, the segment, else csv)."),
    preset: Optional[str] = typer.Option(None, "--preset", help="mailchimp | brevo | mailjet: the headers that tool's importer expects."),
    changes_only: bool = typer.Option(False, "--changes-only", help="Export only who joined since the last run of an earlier day (re-running a day writes the same list)."),
) -> None:
    """Run segments: record who is in each and, with --out/--out-dir, write the lists.

    Prints nothing on success when not on a terminal (cron); exits 2 when any
    segment failed, after writing the others.

    Example: crmseg segment run --all --out-dir lists/ --preset brevo
    """
    from cli.segmenting import library_for
    from cli.segmenting.runner import run_segments

    app_ctx = app_context(ctx)
    if fmt is not None and fmt not in ("csv", "xlsx", "json", "parquet"):
        raise typer.BadParameter(f"unknown format `{fmt}`; use csv, xlsx, json or parquet.", param_hint="--format")
    if preset is not None and preset not in ("mailchimp", "brevo", "mailjet"):
        raise typer.BadParameter(f"unknown preset `{preset}`; use mailchimp, brevo or mailjet.", param_hint="--preset")
    if out is not None and out_dir is not None:
        raise typer.BadParameter("give --out or --out-dir, not both.")
    library = library_for(app_ctx.settings)
    if all_segments:
        if names:
            raise typer.BadParameter("give segment names or --all, not both.")
        selected = library.names
        if not selected:
            raise InputError(f"{app_ctx.settings.segments_path}: no segment files to run.")
    elif names:
        selected = list(names)
    else:
        raise typer.BadParameter("name at least one segment, or give --all.")
    # A mistyped --db in a cron line would create an empty base and write empty lists without a word.
    new_base = not app_ctx.db_path.exists()
    con = _locked_connection(app_ctx)
    results = run_segments(con, library, selected, settings=app_ctx.settings, as_of=app_ctx.as_of, out=out,
                           out_dir=out_dir, fmt=fmt, preset=preset, changes_only=changes_only)
    failed = [r for r in results if r.error]
    if new_base:
        # On stderr even under --quiet: cron mails it.
        app_ctx.err_console.print(
            f"warning: there was no database at {app_ctx.db_path}; an empty one was created, so every list is "
            "empty. Check --db (or $CRMSEG_DB)."
        )

    def render(console) -> None:
        rows = [[r.segment, r.members if r.members is not None else "-",
                 "-" if r.joined is None else f"+{r.joined}", "-" if r.left is None else f"-{r.left}",
                 r.exported if r.exported is not None else "", str(r.output or ""), "FAILED" if r.error else "ok"]
                for r in results]
        console.print(table(f"Segments run (as of {app_ctx.as_of})",
                            ["segment", "members", "joined", "left", "exported", "file", "status"], rows))

    # Cron-friendly: no table when stdout is not a terminal (errors still go to stderr).
    interactive = sys.stdout.isatty()
    app_ctx.emit({"as_of": app_ctx.as_of, "runs": [r.as_dict() for r in results]}, render if interactive else None)
    if failed:
        raise SegmentError(
            f"{len(failed)} of {len(results)} segments failed (the others were run and written):\n"
            + "\n".join(f"- {r.segment}: {r.error}" for r in failed)
        )


@app.command("explain")
def explain(ctx: typer.Context, name: str = typer.Argument(..., help="Segment name."),
            email: str = typer.Argument(..., help="The contact's email, its id (#123) or a phone number.")) -> None:
    """Say, condition by condition, why a contact is in a segment or not, with the values seen.

    A contact without email (a postal donor) is given by its id or phone, as to `contacts show`.

    Example: crmseg segment explain relance-animaux marie.dupont@example.org
    """
    from cli.contacts import resolve_identifier
    from cli.segmenting import library_for
    from cli.segmenting.runner import explain as explain_contact
    from cli.segmenting.runner import show_seen

    app_ctx = app_context(ctx)
    library = library_for(app_ctx.settings)
    spec = library.get(name)
    con = _locked_connection(app_ctx)
    # Like `contacts show`: an address absorbed by a merge finds the kept contact, with a note.
    contact_id, note = resolve_identifier(con, email, region=app_ctx.settings.default_region, suggest=True)
    result = explain_contact(con, spec, contact_id, settings=app_ctx.settings, as_of=app_ctx.as_of, library=library)
    data = {
        "segment": result.segment, "contact_id": result.contact_id, "member": result.member, "as_of": app_ctx.as_of,
        "note": note, "why": result.why,
        "conditions": [{"depth": c.depth, "condition": c.condition, "holds": c.holds, "seen": c.seen}
                       for c in result.conditions],
        "purpose": spec.purpose,
        "purpose_rules": [{"rule": p.condition, "holds": p.holds, "seen": p.seen} for p in result.purpose],
    }

    def render(console) -> None:
        if note:
            console.print(f"Note: {note}.", markup=False)
        rows = [["  " * c.depth + c.condition, "yes" if c.holds else "no", show_seen(c.seen) if c.reads else ""]
                for c in result.conditions]
        who = email.strip() if email.strip().lstrip("#") == str(result.contact_id) else f"{email.strip()} (#{result.contact_id})"
        title = f"{who} in {name} (as of {app_ctx.as_of})"
        console.print(table(title, ["condition", "holds", "value seen"], rows))
        console.print(table(f"Purpose rules ({spec.purpose})", ["rule", "holds", "value seen"],
                            [[p.condition, "yes" if p.holds else "no", show_seen(p.seen) if p.reads else ""]
                             for p in result.purpose]))
        console.print(result.why, markup=False)

    app_ctx.emit(data, render)


@app.command("diff")
def diff(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Segment name."),
    limit: Optional[int] = typer.Option(
        None, "--limit", min=1, help=f"At most this many people per list (default: {SCREEN_ROWS} on screen, all under --json)."
    ),
) -> None:
    """List who joined and who left a segment between its last two runs (after one run: its members).

    Example: crmseg segment diff relance-animaux
    """
    from cli.segmenting import library_for
    from cli.segmenting.runner import diff_runs

    app_ctx = app_context(ctx)
    data = diff_runs(app_ctx.connect(), name, limit=screen_limit(app_ctx, limit),
                     known=library_for(app_ctx.settings).names)

    def render(console) -> None:
        p, l = data["previous"], data["latest"]
        if data["first_run"]:
            console.print(f"{name}: first run (run {l['run_id']}, {l['members']} members, as of {l['as_of']}); "
                          "no earlier run to compare with, so every member counts as joined.")
        else:
            console.print(f"{name}: run {p['run_id']} ({p['members']} members, as of {p['as_of']}) -> "
                          f"run {l['run_id']} ({l['members']} members, as of {l['as_of']})")
            if data["definition_changed"]:
                console.print("The segment's definition changed between these runs.")
        if not data["joined_count"] and not data["left_count"]:
            console.print("No one joined or left.")
            return
        for title, key in (("Joined", "joined"), ("Left", "left")):
            total = data[key + "_count"]
            if data["first_run"] and key == "left":
                continue
            console.print(table(shown_title(f"{title} ({total})", len(data[key]), total), ["id", "email", "first name", "last name"],
                                [[r["id"], r["email"], r["first_name"], r["last_name"]] for r in data[key]]))
        if len(data["joined"]) < data["joined_count"] or len(data["left"]) < data["left_count"]:
            console.print(MORE_ROWS)

    app_ctx.emit(data, render)


@app.command("overlap")
def overlap(ctx: typer.Context) -> None:
    """Show how many contacts each pair of segments shares now (purpose rules applied).

    A segment that cannot run (an invalid file, an in_segment cycle) is left
    out; each is named on stderr and the exit code is 2.

    Example: crmseg segment overlap --json
    """
    from cli.segmenting import library_for
    from cli.segmenting.runner import overlap as overlap_matrix

    app_ctx = app_context(ctx)
    library = library_for(app_ctx.settings)
    con = _locked_connection(app_ctx)
    data = overlap_matrix(con, library, settings=app_ctx.settings, as_of=app_ctx.as_of)

    def render(console) -> None:
        names = data["segments"]
        if not names:
            console.print("No segment to compare.")
            return
        # A matrix is read at a glance while it fits the page; beyond, its columns would be cut to nothing.
        width = max(len("segment"), *map(len, names)) + sum(max(len(n), len(str(data["sizes"][n]))) + 3 for n in names) + 4
        if width <= console.width:
            rows = [[a] + data["matrix"][i] for i, a in enumerate(names)]
            console.print(table(f"Segment overlap (as of {app_ctx.as_of}; diagonal = size)", ["segment"] + names, rows))
            return
        console.print(table(f"Segment sizes (as of {app_ctx.as_of})", ["segment", "members"],
                            [[n, data["sizes"][n]] for n in names]))

        def share(value) -> str:
            return "-" if value is None else f"{value:.0%}"

        pairs = data["pairs"]
        console.print(table(f"Segments that share members ({len(pairs)} pairs; the others share none)",
                            ["segment a", "segment b", "shared", "of a", "of b"],
                            [[p["a"], p["b"], p["shared"], share(p["share_of_a"]), share(p["share_of_b"])] for p in pairs]))

    app_ctx.emit(data, render)
    if data["failed"]:
        raise SegmentError(
            f"{len(data['failed'])} segment{'s' if len(data['failed']) > 1 else ''} left out of the overlap "
            "(the others are shown):\n"
            + "\n".join(f"- {name}: {error}" for name, error in data["failed"].items())
        )



@app.command("profile")
def profile(ctx: typer.Context, name: str = typer.Argument(..., help="Segment name.")) -> None:
    """Describe the typical member of a segment against the whole base: age bands, gender,
    regions, top tags and interests, sources, giving, RFM groups, engagement, and a persona.

    Example: crmseg segment profile relance-animaux
    """
    from cli.reporting.profile import profile_segment

    app_ctx = app_context(ctx)
    con = _locked_connection(app_ctx)
    result = profile_segment(con, name, settings=app_ctx.settings, as_of=app_ctx.as_of)
    data = {"segment": name, "as_of": app_ctx.as_of, **result.to_dict()}

    def shares(title: str, items, known: str | None = None) -> None:
        counts = result.known.get(known) if known else None
        if counts is not None and result.size and not counts["members"]:
            app_ctx.console.print(f"{title}: not known for any member ({counts['base']} of {result.base_size} "
                                  "in the base).")
            return
        if items:
            shown = table(title, ["value", "members", "base"],
                          [[s.value, f"{s.members:.0%}", f"{s.base:.0%}"] for s in items])
            if counts is not None and result.size:
                word = {"age": "birth date", "gender": "gender", "region": "region"}[known]
                shown.caption = (f"shares of the {counts['members']} members and {counts['base']} contacts of the base "
                                 f"whose {word} is known")
                shown.caption_justify = "left"
            app_ctx.console.print(shown)

    def measure(key: str, value):
        # Shares read as percentages, like the tables above; a figure with no members to compute it from is "-".
        if value is None:
            return "-"
        return f"{value:.0%}" if key.endswith(("_share", "_months", "_months_base")) else value

    def render(console) -> None:
        console.print(f"{name}: {result.size} members of {result.base_size} live contacts (as of {app_ctx.as_of})")
        console.print(f"Persona: {result.persona}")
        shares("Age", result.age_bands, "age")
        shares("Gender", result.gender, "gender")
        shares("Regions", result.regions, "region")
        shares("Tags", result.tags)
        for field_name, items in result.interests.items():
            shares(field_name, items)
        shares("Sources", result.sources)
        shares("RFM groups", result.rfm_groups)
        giving = result.giving
        console.print(table("Giving", ["measure", "value"], [[k.replace("_", " "), measure(k, v)] for k, v in giving.items()]))
        console.print(table("Engagement", ["measure", "value"],
                            [[k.replace("_", " "), measure(k, v)] for k, v in result.engagement.items()]))

    app_ctx.emit(data, render)
