"""How segments intersect, from each segment's last recorded run."""

from __future__ import annotations

from typing import Any

import duckdb


def last_run_overlap(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Segment names and the matrix of shared members between their last runs.

    ``matrix[i][j]`` is the number of contacts in both segment i and j (the
    diagonal is each segment's size).
    """
    rows = con.execute(
        """
        WITH last AS (SELECT segment, max(id) AS run_id FROM segment_runs GROUP BY segment),
        members AS (SELECT l.segment, m.contact_id FROM last l JOIN segment_members m ON m.run_id = l.run_id)
        SELECT a.segment, b.segment, count(*)
        FROM members a JOIN members b ON a.contact_id = b.contact_id
        GROUP BY ALL
        """
    ).fetchall()
    names = [r[0] for r in con.execute("SELECT DISTINCT segment FROM segment_runs ORDER BY segment").fetchall()]
    index = {name: i for i, name in enumerate(names)}
    matrix = [[0] * len(names) for _ in names]
    for a, b, count in rows:
        matrix[index[a]][index[b]] = count
    return {"segments": names, "matrix": matrix}
