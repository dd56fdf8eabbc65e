"""docs/research.md answers the source's questions on the 300-girl demo store: its pandas
code runs against a fresh export of that store and prints what the document shows. On
SQLite and on PostgreSQL (the second with the slow tests: three minutes of demo)."""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.test_research_export import export
from trajectory.application import TrajectoryApplication

pytest_plugins = ["tests.research_support"]  # the 300-girl demo store

DOC = Path(__file__).resolve().parent.parent / "docs" / "research.md"
SECTION = "## Answering the source's questions"
QUESTIONS = (
    "How long do girls stay in each phase?",
    "Homogeneous girls' group or mixed group?",
    "EMDR or CBT?",
    "In which phase do girls run away?",
    "Revictimisation within 12 months after care",
    "Still in view at 19?",
)


def section() -> str:
    """The section of docs/research.md that answers the questions (to the next `## `)."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return text[start:] if end < 0 else text[start:end]


def examples(text: str) -> list[tuple[str, str | None]]:
    """Each ```python block, with the ```text block that follows it (its output), if any."""
    found = re.finditer(r"```python\n(.*?)```\s*(?:```text\n(.*?)```)?", text, re.S)
    return [(m.group(1), m.group(2)) for m in found]


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def test_the_document_answers_every_question_with_python_and_r() -> None:
    text = section()
    for question in QUESTIONS:
        assert f"### {question}" in text, question
    assert len(examples(text)) >= len(QUESTIONS) + 1
    assert "library(TraMineR)" in text
    assert "library(survival)" in text
    assert "Surv(time12, event12)" in text


def test_the_answers_run_on_a_fresh_export_of_the_300_girl_demo_and_print_what_is_shown(
    demo_300: TrajectoryApplication, tmp_path: Path
) -> None:
    # Given a fresh export of the 300-girl demo store, where the document reads it
    manifest = export(demo_300, tmp_path / "export-demo")
    assert manifest.small_cell_check.passed, manifest.small_cell_check.failures
    # When every python block of the section runs in turn, as a researcher pastes them
    namespace: dict[str, Any] = {}
    printed: list[tuple[str, str | None]] = []
    with working_directory(tmp_path):
        for code, shown in examples(section()):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(code, str(DOC), "exec"), namespace)
            printed.append((out.getvalue(), shown))
    # Then each prints what the document shows beneath it
    for got, shown in printed:
        if shown is not None:
            assert got.strip() == shown.strip()
    # and the answers are there: every phase timed, both groups, both methods, runaways
    # by phase, revictimisation after care with censoring, girls seen at 19
    assert set(namespace["time_in_phase"].index) >= {"P1", "P2", "P3"}
    assert set(namespace["by_group"].index) == {"homogeneous_group", "mixed_group"}
    assert set(namespace["by_method"].index) == {"cbt", "emdr"}
    assert namespace["runaways_by_phase"].sum() > 0
    assert 0 < int(namespace["within_12"].sum()) < len(namespace["left"])
    assert set(namespace["left"]["follow_up_censoring_reason"].dropna()) >= {
        "lost_to_follow_up", "observation_ended"}
    at_19 = namespace["girls"]["in_view_at_19"].dropna()
    assert 0 < at_19.sum() < len(at_19)
