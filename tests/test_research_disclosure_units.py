"""The small-cell check on its own: hierarchies, the least generalisation, local
suppression, the budget, and a truthful `passed`."""

from __future__ import annotations

import pytest

from trajectory.research.disclosure import (
    HIERARCHIES,
    MIN_K,
    KAnonymity,
    disclosure_codebook,
    hierarchies,
)


def _add(check: KAnonymity, n: int, qi: tuple[str, ...], day: int | None = None) -> None:
    for _ in range(n):
        check.add(qi, day)


def test_each_hierarchy_climbs_to_withheld() -> None:
    ladders = {h.column: [h.at(v, lv) for lv in range(h.top + 1)] for h, v in zip(
        HIERARCHIES, ("O1", "12-13", "2025-05", "influenceable|traumatised"), strict=True)}
    assert ladders == {
        "organisation": ["O1", None],
        "age_band": ["12-13", "<14", "<18", None],
        "intake_period": ["2025-05", "2025-Q2", "2025-H1", "2025", None],
        "risk_profiles": ["influenceable|traumatised", "traumatised", None],
    }
    assert any("| `intake_period` | 2 | half year" in line for line in disclosure_codebook(28))


def test_k_below_5_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 5"):
        KAnonymity(k=MIN_K - 1, max_suppressed_percent=10)


def test_the_least_generalisation_is_taken_column_by_column() -> None:
    # Given three months of four girls (quarters of twelve) and five girls in July
    check = KAnonymity(k=5, max_suppressed_percent=0)
    for month in ("2025-01", "2025-02", "2025-03"):
        _add(check, 4, ("O1", "14-15", month, "traumatised"))
    _add(check, 5, ("O1", "14-15", "2025-07", "traumatised"))
    # When the check decides
    result = check.decide()
    # Then only the month became a quarter; nothing else moved, nothing was suppressed
    assert [c.level for c in result.columns] == [0, 0, 1, 0]
    assert result.columns[2].cells_generalised == 17
    assert (result.cells_suppressed, result.classes, result.passed) == (0, 2, True)
    assert result.rows_in_small_cells_before == 12
    assert check.publish(("O1", "14-15", "2025-02", "traumatised")) == (
        "O1", "14-15", "2025-Q1", "traumatised")


def test_girls_alone_lose_one_cell_not_four() -> None:
    # Given ten alike, and five girls each alone only by her risk profiles
    check = KAnonymity(k=5, max_suppressed_percent=10)
    _add(check, 5, ("O1", "14-15", "2025-01", "traumatised"))
    _add(check, 5, ("O1", "14-15", "2025-01", "honour_related"))
    rare = ("multi_problem|phase_of_life", "influenceable", "phase_of_life",
            "influenceable|phase_of_life", "multi_problem")
    for profiles in rare:
        check.add(("O1", "14-15", "2025-01", profiles))
    result = check.decide()
    # Then they keep organisation, band and month; only their profiles are withheld
    for profiles in rare:
        assert check.publish(("O1", "14-15", "2025-01", profiles)) == (
            "O1", "14-15", "2025-01", None)
    assert [c.level for c in result.columns] == [0, 0, 0, 0]
    assert [c.cells_suppressed for c in result.columns] == [0, 0, 0, 5]
    assert (result.cells_suppressed, result.rows_with_suppression, result.passed) == (
        5, 5, True)


def test_over_the_budget_the_check_fails_and_says_why() -> None:
    check = KAnonymity(k=5, max_suppressed_percent=10)
    _add(check, 3, ("O1", "14-15", "2025-01", "traumatised"))
    result = check.decide()
    assert not result.passed
    # (with every value withheld the three are in no group: it is the budget that fails)
    assert result.failures == [
        "12 of 12 quasi-identifier cells suppressed: over the budget of 10%",
    ]


def test_girls_still_in_care_share_their_group_s_censoring_day() -> None:
    check = KAnonymity(k=5, max_suppressed_percent=0)
    for month, day in (("2025-01", 336), ("2025-02", 308), ("2025-03", 280)):
        _add(check, 2, ("O1", "14-15", month, "traumatised"), day)
    check.decide()  # (six girls: one quarter)
    assert check.censoring_day(("O1", "14-15", "2025-01", "traumatised"), 336) == 280
    assert check.censoring_day(("O1", "14-15", "2025-03", "traumatised"), 280) == 280


def test_the_export_page_has_words_for_every_level_of_every_hierarchy() -> None:
    from trajectory.web.other_pages import DISCLOSURE_WORDS

    # (the richest ladders: the organisation's with its region level)
    assert {h.column: h.top + 1 for h in hierarchies({"O1": "Utrecht"})} == {
        column: len(levels) for column, (_label, levels) in DISCLOSURE_WORDS.items()}
    assert all(levels[-1] == "withheld" for _label, levels in DISCLOSURE_WORDS.values())
