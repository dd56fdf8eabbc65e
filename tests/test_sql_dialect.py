"""Our SQL is written once, with `?` placeholders, and runs as written on SQLite and on
PostgreSQL: `persistence.database.render` is the one place that speaks PostgreSQL's
placeholder dialect, for every way a statement reaches the database."""

from __future__ import annotations

import pytest

from trajectory.application import TrajectoryApplication
from trajectory.persistence.database import RowWrite, placeholders, render

LITERALS = "SELECT '?' AS question, '100%' AS percent, 'it''s' AS quote, ? AS value"


def test_a_statement_with_a_question_mark_and_a_percent_in_its_literals_runs_as_written(
    app: TrajectoryApplication,
) -> None:
    # given a statement whose text literals hold a question mark, a percent sign and a quote
    expected = {"question": "?", "percent": "100%", "quote": "it's", "value": 7}
    # when it is run alone and in a transaction, then the literals come back as written
    assert app.db.fetchone(LITERALS, [7]) == expected
    with app.db.transaction(commit=False) as tx:
        assert tx.fetchone(LITERALS, [7]) == expected


def test_a_row_write_takes_values_with_question_marks_and_percent_signs(
    app: TrajectoryApplication,
) -> None:
    with app.db.transaction() as tx:
        tx.execute("CREATE TABLE dialect_check (id TEXT PRIMARY KEY, note TEXT NOT NULL)")
    app.db.write(RowWrite("dialect_check", {"id": "a?", "note": "50% done?"}))
    app.db.write(
        RowWrite("dialect_check", {"id": "a?", "note": "100%"}, upsert_on=("id",)),
        RowWrite("dialect_check", {"id": "b%", "note": "?"}),
    )
    rows = app.db.fetchall(
        f"SELECT id, note FROM dialect_check WHERE id IN ({placeholders(2)}) ORDER BY id",
        ["a?", "b%"],
    )
    assert rows == [{"id": "a?", "note": "100%"}, {"id": "b%", "note": "?"}]


@pytest.mark.parametrize(
    ("written", "postgres"),
    [
        ("SELECT ? WHERE a = ?", "SELECT %s WHERE a = %s"),
        ("SELECT '?', ?", "SELECT '?', %s"),
        ("SELECT 'a%b' LIKE ?", "SELECT 'a%%b' LIKE %s"),
        ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', %s"),
        ('SELECT "odd?name" FROM t WHERE x = ?', 'SELECT "odd?name" FROM t WHERE x = %s'),
        ("SELECT 5 % 2", "SELECT 5 %% 2"),
    ],
)
def test_postgres_gets_its_placeholders_and_sqlite_the_statement_as_written(
    written: str, postgres: str
) -> None:
    assert render("postgres", written) == postgres
    assert render("sqlite", written) == written


def test_placeholders_for_an_in_list() -> None:
    assert placeholders(3) == "?, ?, ?"
