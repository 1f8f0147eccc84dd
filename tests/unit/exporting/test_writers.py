"""Export writers: formula neutralisation, typed values kept, presets, atomic writes."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import fastexcel
import polars as pl
import pytest
from hypothesis import given, settings, strategies as st

from cli.exporting import apply_preset, neutralise_text, write_export

FRAME = pl.DataFrame({
    "email": ["a@x.org", "b@x.org", "c@x.org"],
    "first_name": ["=HYPERLINK(\"http://evil\")", "+33 not a phone", "Zoé"],
    "last_name": ["-2+3", "@SUM(A1)", "\tTab"],
    "phone": ["+33612345678", "+cmd|' /C calc'!A0", None],
    "total_given": [-12.5, 0.0, 100.0],
    "birth_date": [date(1980, 1, 2), None, date(2001, 12, 31)],
    "tags": [["=bad", "vip"], [], None],
})


def test_csv_neutralises_text_and_keeps_typed_values(tmp_path: Path):
    out = tmp_path / "list.csv"
    assert write_export(FRAME, out, "csv", phone_columns={"phone"}) == 3
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows[0]["first_name"] == "'=HYPERLINK(\"http://evil\")"
    assert rows[1]["first_name"] == "'+33 not a phone"
    assert rows[0]["last_name"] == "'-2+3"
    assert rows[1]["last_name"] == "'@SUM(A1)"
    assert rows[2]["last_name"] == "'\tTab"
    assert rows[0]["phone"] == "+33612345678"  # a validated E.164 phone passes
    assert rows[1]["phone"].startswith("'+cmd")  # not E.164: neutralised even in a phone column
    assert rows[0]["total_given"] == "-12.5"  # numbers are not text
    assert rows[0]["birth_date"] == "1980-01-02"
    assert rows[0]["tags"] == "'=bad|vip"
    assert rows[2]["first_name"] == "Zoé"


def test_xlsx_neutralises_text_and_writes_dates_and_numbers_typed(tmp_path: Path):
    out = tmp_path / "list.xlsx"
    write_export(FRAME, out, "xlsx", phone_columns={"phone"})
    frame = fastexcel.read_excel(out).load_sheet(0).to_polars()
    assert frame["first_name"].to_list()[0] == "'=HYPERLINK(\"http://evil\")"
    assert frame["last_name"].to_list()[1] == "'@SUM(A1)"
    assert frame["phone"].to_list()[0] == "+33612345678"
    assert frame["total_given"].to_list() == [-12.5, 0.0, 100.0]
    assert frame["birth_date"].dtype in (pl.Date, pl.Datetime)


def test_json_and_parquet_keep_values_as_they_are(tmp_path: Path):
    write_export(FRAME, tmp_path / "list.json", "json")
    records = json.loads((tmp_path / "list.json").read_text(encoding="utf-8"))
    assert records[0]["first_name"] == "=HYPERLINK(\"http://evil\")"
    assert records[0]["tags"] == ["=bad", "vip"]
    write_export(FRAME, tmp_path / "list.parquet", "parquet")
    assert pl.read_parquet(tmp_path / "list.parquet").equals(FRAME)


def test_write_is_atomic_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch):
    out = tmp_path / "list.csv"
    out.write_text("old list\n", encoding="utf-8")

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pl.DataFrame, "write_csv", boom)
    with pytest.raises(RuntimeError):
        write_export(FRAME, out, "csv")
    assert out.read_text(encoding="utf-8") == "old list\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["list.csv"]


@pytest.mark.parametrize("preset,headers", [
    ("mailchimp", ["Email Address", "First Name", "Last Name", "Phone Number"]),
    ("brevo", ["EMAIL", "FIRSTNAME", "LASTNAME", "SMS"]),
    ("mailjet", ["email", "firstname", "name", "phone"]),
])
def test_presets_use_the_importers_headers(preset, headers):
    frame = pl.DataFrame({"first_name": ["A"], "last_name": ["B"], "email": ["a@x.org"], "phone": ["+33612345678"]})
    assert apply_preset(frame, preset).columns == headers


@settings(max_examples=200)
@given(st.text(max_size=12))
def test_no_neutralised_cell_can_start_a_formula(text):
    result = neutralise_text(text)
    assert not result.startswith(("=", "+", "-", "@", "\t", "\r", "\n"))
    assert result in (text, "'" + text)


@pytest.mark.parametrize("target,message", [
    ("folder", "is a folder"),
    ("missing/list.csv", "does not exist"),
    ("old.csv/list.csv", "is a file, not a folder"),
    ("read-only.csv", "is read-only"),
])
def test_a_target_that_cannot_be_written_is_an_input_error_and_nothing_changes(tmp_path: Path, target, message):
    from cli.errors import InputError

    (tmp_path / "folder").mkdir()
    (tmp_path / "old.csv").write_text("old list\n", encoding="utf-8")
    (tmp_path / "read-only.csv").write_text("old list\n", encoding="utf-8")
    (tmp_path / "read-only.csv").chmod(0o444)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(InputError, match=message):
        write_export(FRAME, tmp_path / target, "csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "read-only.csv").read_text(encoding="utf-8") == "old list\n"


def test_a_failing_xlsx_write_is_an_input_error_and_keeps_the_old_file(tmp_path: Path, monkeypatch):
    import xlsxwriter
    from xlsxwriter.exceptions import FileCreateError

    from cli.errors import InputError

    out = tmp_path / "list.xlsx"
    out.write_bytes(b"old workbook")

    def full_disk(self):
        raise FileCreateError(OSError(28, "No space left on device"))

    monkeypatch.setattr(xlsxwriter.Workbook, "_store_workbook", full_disk)
    with pytest.raises(InputError, match="No space left on device"):
        write_export(FRAME, out, "xlsx")
    assert out.read_bytes() == b"old workbook"
    assert [p.name for p in tmp_path.iterdir()] == ["list.xlsx"]


def test_the_list_is_owner_only_while_it_is_being_written(tmp_path: Path, monkeypatch):
    modes = []
    original = pl.DataFrame.write_csv

    def spy(self, file, **kwargs):
        modes.append(Path(file).stat().st_mode & 0o777)
        return original(self, file, **kwargs)

    monkeypatch.setattr(pl.DataFrame, "write_csv", spy)
    write_export(FRAME, tmp_path / "list.csv", "csv")
    assert modes == [0o600]
    assert (tmp_path / "list.csv").stat().st_mode & 0o777 == 0o600


def test_a_text_longer_than_an_excel_cell_keeps_the_rest_of_its_row(tmp_path: Path):
    frame = pl.DataFrame({"email": ["a@x.org"], "notes": ["x" * 40_000], "total_given": [25.0],
                          "city": ["Lyon"]})
    write_export(frame, tmp_path / "list.xlsx", "xlsx")
    sheet = fastexcel.read_excel(tmp_path / "list.xlsx").load_sheet(0).to_polars()
    assert len(sheet["notes"][0]) == 32_767
    assert sheet["total_given"].to_list() == [25.0]
    assert sheet["city"].to_list() == ["Lyon"]


def test_a_list_longer_than_an_excel_sheet_is_refused_before_anything_is_written(tmp_path: Path):
    from cli.errors import InputError

    frame = pl.DataFrame({"id": pl.int_range(0, 1_048_576, eager=True)})
    with pytest.raises(InputError, match="csv or parquet"):
        write_export(frame, tmp_path / "list.xlsx", "xlsx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("preset,columns", [
    ("mailjet", ["email", "last_name", "name"]),
    ("brevo", ["email", "phone", "sms"]),
    ("brevo", ["email", "first_name", "firstname"]),
])
def test_a_preset_refuses_two_columns_under_one_header(preset, columns):
    from cli.errors import InputError

    frame = pl.DataFrame({c: ["x"] for c in columns})
    with pytest.raises(InputError, match="would both be headed"):
        apply_preset(frame, preset)


def test_json_amounts_are_numbers_and_times_iso_8601(tmp_path: Path):
    from datetime import datetime
    from decimal import Decimal

    frame = pl.DataFrame({
        "total_given": pl.Series([Decimal("12.50"), None], dtype=pl.Decimal(38, 2)),
        "last_gift_at": [datetime(2026, 5, 1, 14, 30, 5, 250000), None],
    })
    write_export(frame, tmp_path / "list.json", "json")
    records = json.loads((tmp_path / "list.json").read_text(encoding="utf-8"))
    assert records == [{"total_given": 12.5, "last_gift_at": "2026-05-01T14:30:05.250"},
                       {"total_given": None, "last_gift_at": None}]
    assert datetime.fromisoformat(records[0]["last_gift_at"]) == datetime(2026, 5, 1, 14, 30, 5, 250000)


def test_a_pipe_is_refused_and_a_symbolic_link_keeps_pointing_at_the_new_list(tmp_path: Path):
    import os

    from cli.errors import InputError

    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(InputError, match="not a regular file"):
        write_export(FRAME, tmp_path / "pipe", "csv")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "list.csv").write_text("old list\n", encoding="utf-8")
    (tmp_path / "current.csv").symlink_to(tmp_path / "shared" / "list.csv")
    write_export(FRAME, tmp_path / "current.csv", "csv")
    assert (tmp_path / "current.csv").is_symlink()
    assert next(csv.DictReader((tmp_path / "shared" / "list.csv").open(encoding="utf-8")))["email"] == "a@x.org"
