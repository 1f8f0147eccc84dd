"""The text reader's cells: trimmed of surrounding blanks, an empty cell NULL."""

from __future__ import annotations

import random

import duckdb

from cli.importing.sources import read_source

BLANKS = " \t\r\n\u00a0"


def _cell(rng: random.Random) -> str:
    edges = ["", "", " ", "  ", "\t", "\u00a0", " \u00a0", "\r", "\n", "."]
    cores = ["", "a", "é", "ab cd", "x\u00a0y", "Zoë", "€", "a\tb", "1 234,56", "12/03/2024", "ü\u00a0"]
    return rng.choice(edges) + rng.choice(cores) + rng.choice(edges)


def test_cells_lose_surrounding_blanks_whatever_their_last_character(tmp_path):
    rng = random.Random(11)
    rows = [[_cell(rng) for _ in range(3)] for _ in range(3000)]
    lines = ["a;b;c"] + [";".join('"' + c + '"' for c in row) for row in rows]
    path = tmp_path / "cells.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    con = duckdb.connect()
    read_source(con, path, delimiter=";")
    got = con.execute("SELECT c0, c1, c2 FROM import_raw ORDER BY __row").fetchall()
    expected = [tuple(c.strip(BLANKS) or None for c in row) for row in rows]
    # A row of blank cells is a blank row: the reader skips it.
    expected = [row for row in expected if row != (None, None, None)]
    assert got == expected
    # The sample holds cells ending in each blank, and cells ending in other characters.
    assert {row[0][-1:] for row in rows} >= set(BLANKS) | {"é", "."}
