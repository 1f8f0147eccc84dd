"""What crmseg writes out, read back as a user would: lists, presets, failures, screen output.

Each test builds a small base, runs the command, then opens the file it
wrote (csv, fastexcel, json, polars) instead of trusting the command's own
summary.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from cli.store import open_database
from cli.suppression import refresh_contact_keys

AS_OF = ["--as-of", "2026-11-20"]
SETTINGS = """\
fields:
  mobile: {type: phone}
  notes: {type: text}
"""


@pytest.fixture
def base(db_path: Path) -> Path:
    """Anne may be emailed; Bob unsubscribed; Cy is suppressed; Dan has no consent. All have a postal address."""
    folder = db_path.parent
    (folder / "crmseg.yaml").write_text(SETTINGS, encoding="utf-8")
    (folder / "segments").mkdir()
    con = open_database(db_path, wait=0, memory_limit="1GB")
    con.execute("""
        INSERT INTO contacts (id, email, first_name, last_name, phone, street, postal_code, city,
                              consent_email, consent_at, status, status_reason) VALUES
          (1, 'anne@example.org', '[bold]Anne', '[/x] Markup', '+33612345678', '1 rue A', '69001', 'Lyon',
           true, '2026-01-01', 'active', NULL),
          (2, 'bob@example.org', 'Bob', 'Martin', '+33612345679', '2 rue B', '75001', 'Paris',
           true, '2026-01-01', 'active', NULL),
          (3, 'cy@example.org', 'Cy', 'Durand', '+33612345670', '3 rue C', '06000', 'Nice',
           true, '2026-01-01', 'suppressed', 'hard_bounce'),
          (4, 'dan@example.org', 'Dan', 'Petit', '+33612345671', '4 rue D', '59000', 'Lille',
           NULL, NULL, 'active', NULL)
    """)
    refresh_contact_keys(con)
    con.execute("INSERT INTO events (contact_id, type, occurred_at) VALUES (2, 'unsubscribe', '2026-06-01')")
    con.execute("INSERT INTO custom_values (contact_id, field, text_value) VALUES "
                "(1, 'mobile', '+33698765432'), (1, 'notes', '=HYPERLINK(\"http://evil\")')")
    con.execute("INSERT INTO contact_tags (contact_id, tag) VALUES (1, '[/b]')")
    con.close()
    return folder


def segment(folder: Path, name: str, text: str) -> None:
    (folder / "segments" / f"{name}.yaml").write_text(text, encoding="utf-8")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_names_that_look_like_rich_markup_are_printed_as_they_are(invoke, base):
    shown = invoke("contacts", "show", "anne@example.org")
    assert shown.exit_code == 0, shown.stderr
    assert "[bold]Anne" in shown.stdout and "[/x] Markup" in shown.stdout
    found = invoke("contacts", "find", "anne")
    assert found.exit_code == 0, found.stderr
    assert "[/x] Markup" in found.stdout
    tags = invoke("tag", "list")
    assert tags.exit_code == 0, tags.stderr
    assert "[/b]" in tags.stdout
    added = invoke("tag", "add", "[/c]", "--email", "anne@example.org")
    assert added.exit_code == 0, added.stderr
    assert "[/c]" in added.stdout


@pytest.mark.parametrize("command", [
    ["gdpr", "export", "anne@example.org", "--out", "{folder}"],
    ["report", "--html", "{folder}"],
    ["gdpr", "export", "anne@example.org", "--out", "{file}/anne.json"],
    ["segment", "run", "everyone", "--out-dir", "{file}/lists"],
    ["segment", "run", "everyone", "--out", "{file}"],
])
def test_an_output_path_the_system_refuses_is_exit_2_with_the_path_named(invoke, base, command):
    segment(base, "everyone", "purpose: analysis\nwhere: {all: []}\n")
    (base / "old.csv").write_text("old list\n", encoding="utf-8")
    (base / "old.csv").chmod(0o444)
    args = [a.format(folder=base / "segments", file=base / "old.csv") for a in command]
    result = invoke(*AS_OF, *args)
    assert result.exit_code == 2, result.stderr
    assert "Internal error" not in result.stderr and "Traceback" not in result.stderr
    assert str(base) in result.stderr
    assert (base / "old.csv").read_text(encoding="utf-8") == "old list\n"


@pytest.mark.parametrize("command", [
    ["segment", "run", "everyone", "--format", "csv", "--out", "{db}"],
    ["segment", "run", "everyone", "--format", "csv", "--out", "{db}.wal"],
    ["report", "--html", "{db}"],
    ["gdpr", "export", "anne@example.org", "--out", "{db}"],
])
def test_the_database_itself_is_never_replaced_by_an_output(invoke, base, db_path, command):
    segment(base, "everyone", "purpose: analysis\nwhere: {all: []}\n")
    result = invoke(*AS_OF, *[a.format(db=db_path) for a in command])
    assert result.exit_code == 2 and "is a database file" in result.stderr, result.stderr
    assert not db_path.with_name(db_path.name + ".wal").exists()
    assert invoke("contacts", "show", "anne@example.org").exit_code == 0


def test_a_format_that_contradicts_the_file_name_is_refused(invoke, base):
    segment(base, "everyone", "purpose: analysis\nwhere: {all: []}\n")
    result = invoke(*AS_OF, "segment", "run", "everyone", "--format", "csv", "--out", str(base / "list.xlsx"))
    assert result.exit_code == 2 and "--format csv" in result.stderr and "list.xlsx" in result.stderr
    assert not (base / "list.xlsx").exists()
    assert invoke(*AS_OF, "segment", "run", "everyone", "--format", "csv", "--out", str(base / "list.txt")).exit_code == 0
    # A name that promises another format (a tab-separated .tsv, an old .xls) is not filled with comma-separated text.
    for name in ("list.tsv", "list.xls"):
        result = invoke(*AS_OF, "segment", "run", "everyone", "--out", str(base / name))
        assert result.exit_code == 2 and name in result.stderr and "--format" in result.stderr
        assert not (base / name).exists()


@pytest.mark.parametrize("preset,headers", [
    ("brevo", ["EMAIL", "SMS", "MOBILE"]),
    ("mailchimp", ["Email Address", "Phone Number", "mobile"]),
    ("mailjet", ["email", "phone", "mobile"]),
])
def test_every_preset_writes_validated_phones_as_they_are_custom_phone_fields_too(invoke, base, preset, headers):
    segment(base, "mobiles", "where: {email: anne@example.org}\nexport:\n  columns: [email, phone, mobile, notes]\n")
    out = base / "mobiles.csv"
    result = invoke(*AS_OF, "segment", "run", "mobiles", "--out", str(out), "--preset", preset)
    assert result.exit_code == 0, result.stderr
    rows = read_csv(out)
    assert list(rows[0])[:3] == headers
    assert [rows[0][h] for h in headers[1:]] == ["+33612345678", "+33698765432"]
    assert list(rows[0].values())[3] == "'=HYPERLINK(\"http://evil\")"


@pytest.mark.parametrize("purpose", ["postal", "phone", "analysis"])
@pytest.mark.parametrize("preset", ["mailchimp", "brevo", "mailjet"])
def test_a_preset_file_never_holds_an_address_the_email_rules_leave_out(invoke, base, purpose, preset):
    segment(base, "everyone", f"purpose: {purpose}\ninclude_inactive: true\nwhere: {{all: []}}\n")
    out = base / "everyone.csv"
    result = invoke(*AS_OF, "segment", "run", "everyone", "--out", str(out), "--preset", preset)
    assert result.exit_code == 0, result.stderr
    rows = read_csv(out)
    email = list(rows[0])[0]
    assert len(rows) == 4  # the list keeps its purpose: every postal / phone / analysed contact
    assert [r[email] for r in rows] == ["anne@example.org", "", "", ""]


def test_without_a_preset_an_analysis_list_keeps_every_address(invoke, base):
    segment(base, "everyone", "purpose: analysis\nwhere: {all: []}\n")
    out = base / "everyone.csv"
    assert invoke(*AS_OF, "segment", "run", "everyone", "--out", str(out)).exit_code == 0
    assert [r["email"] for r in read_csv(out)] == [f"{n}@example.org" for n in ("anne", "bob", "cy", "dan")]


def _strict_json(text: str):
    def refuse(constant: str):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_nan_or_infinite_cells_are_issues_so_json_output_stays_json(invoke, base, tmp_path):
    (base / "crmseg.yaml").write_text(SETTINGS + "  cotisation: {type: number}\n", encoding="utf-8")
    people = tmp_path / "people.csv"
    people.write_text("email,cotisation\nnan@example.org,NaN\ninf@example.org,inf\n", encoding="utf-8")
    assert invoke("import", "contacts", str(people)).exit_code == 0
    gifts = tmp_path / "gifts.csv"
    gifts.write_text("email,type,date,montant\nnan@example.org,donation,2026-01-02,NaN\n"
                     "inf@example.org,donation,2026-01-02,99999999999999999999\n", encoding="utf-8")
    imported = invoke("import", "events", str(gifts))
    assert imported.exit_code == 0, imported.stderr
    issues = _strict_json(invoke("--json", "import", "rejects").stdout)["issues"]
    assert [(i["value"], i["reason"]) for i in issues] == [("NaN", "not an amount"),
                                                           ("99999999999999999999", "not an amount")]
    shown = _strict_json(invoke("--json", "contacts", "show", "nan@example.org").stdout)
    assert "cotisation" not in (shown.get("custom_values") or {})
    segment(base, "everyone", "purpose: analysis\nwhere: {all: []}\nexport:\n  columns: [email, cotisation]\n")
    out = base / "everyone.xlsx"
    result = invoke(*AS_OF, "segment", "run", "everyone", "--out", str(out))
    assert result.exit_code == 0, result.stderr
