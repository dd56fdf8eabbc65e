"""The correction rule (`trajectory.aggregates.corrections`), told as stories on the
aggregate alone: what a later correction or mark-in-error does to the entry it points at,
which entries it may point at, and that the state and every reader of the event stream
(`Corrections`) take the same reading."""

from __future__ import annotations

from datetime import date, timedelta

from tests.builders import phase_2_facts
from tests.test_rules import Story, types
from trajectory.aggregates.corrections import Correction, Corrections, correctable_positions
from trajectory.aggregates.events.closure import EntryCorrected, EntryMarkedInError
from trajectory.aggregates.events.quality import SignalRecorded
from trajectory.aggregates.events.safety import MedicalCareAssessed
from trajectory.commands import CorrectEntry, RecordSignal


def correct(position: int, day: date | None = None, reason: str = "typo") -> CorrectEntry:
    return CorrectEntry(position=position, reason=reason, corrected_occurred_on=day)


def mark_in_error(position: int) -> CorrectEntry:
    return CorrectEntry(position=position, action="mark_in_error", reason="wrong girl's file")


def a_signal_10_days_ago() -> tuple[Story, int]:
    story = Story().days_pass(20)
    story.when(RecordSignal(kind="loverboy"), occurred_on=story.today - timedelta(days=10))
    return story, story.position_of(SignalRecorded)


def day_of_evidence(story: Story, position: int) -> set[date]:
    return {e.on for items in story.state.evidence.values() for e in items
            if e.position == position}


def the_readers_agree(story: Story) -> None:
    """The stream, read by `Corrections`, says what the folded state says."""
    read = Corrections.of(story.history)
    assert read.in_error == set(story.state.entries_in_error)
    for event in story.history:
        evidenced = day_of_evidence(story, event.originator_version)
        assert read.counts(event.originator_version) or not evidenced
        if evidenced:
            assert evidenced == {read.occurred_on(event)}


def test_a_corrected_day_is_the_day_the_entry_happened() -> None:
    # given a signal recorded as 10 days ago
    story, signal = a_signal_10_days_ago()
    # when its day is corrected to 12 days ago
    events = story.when(correct(signal, story.today - timedelta(days=12)))
    # then it counts, on the corrected day, for the state and for every reader
    assert types(events) == [EntryCorrected]
    assert events[0].corrects() == Correction(signal, occurred_on=story.today - timedelta(12))
    assert day_of_evidence(story, signal) == {story.today - timedelta(days=12)}
    assert story.state.corrected_entries == [signal]
    the_readers_agree(story)


def test_a_correction_without_a_day_leaves_the_day() -> None:
    story, signal = a_signal_10_days_ago()
    story.given(correct(signal))
    assert day_of_evidence(story, signal) == {story.today - timedelta(days=10)}
    assert Corrections.of(story.history).counts(signal)
    the_readers_agree(story)


def test_the_latest_correction_of_an_entry_wins() -> None:
    # given a signal whose day was corrected once
    story, signal = a_signal_10_days_ago()
    story.given(correct(signal, story.today - timedelta(days=12)))
    # when it is corrected again (the entry, not the correction)
    story.given(correct(signal, story.today - timedelta(days=11)))
    # then the second day holds
    assert day_of_evidence(story, signal) == {story.today - timedelta(days=11)}
    assert Corrections.of(story.history).days == {signal: story.today - timedelta(days=11)}
    the_readers_agree(story)


def test_a_correction_of_a_correction_is_refused() -> None:
    # given a signal whose day was corrected
    story, signal = a_signal_10_days_ago()
    story.given(correct(signal, story.today - timedelta(days=12)))
    correction = story.position_of(EntryCorrected)
    # when the correction itself is corrected or marked in error, then both are refused
    assert story.refused(correct(correction)).code == "entry-not-correctable"
    assert story.refused(mark_in_error(correction)).code == "entry-not-correctable"


def test_a_corrected_entry_marked_in_error_no_longer_counts() -> None:
    # given the phase-2 facts, the medical assessment's day then corrected
    story = Story().given(*phase_2_facts()).days_pass(5)
    medical = story.position_of(MedicalCareAssessed)
    story.given(correct(medical, story.today - timedelta(days=1)))
    # when it is marked in error
    events = story.when(mark_in_error(medical))
    # then it no longer counts anywhere, and can no longer be corrected
    assert types(events) == [EntryMarkedInError]
    assert events[0].corrects() == Correction(medical, in_error=True)
    assert not story.state.has("medical-assessment")
    assert not Corrections.of(story.history).counts(medical)
    assert medical not in correctable_positions(story.state)
    assert story.refused(correct(medical, story.today)).code == "entry-not-correctable"
    the_readers_agree(story)


def test_a_correction_pointing_at_a_later_position_is_refused() -> None:
    story, signal = a_signal_10_days_ago()
    for later in (signal + 1, signal + 2):
        assert story.refused(correct(later)).code == "entry-not-correctable"
        assert story.refused(mark_in_error(later)).code == "entry-not-correctable"


def test_only_corrections_correct() -> None:
    story, _ = a_signal_10_days_ago()
    assert [e.corrects() for e in story.history] == [None, None]
    assert Corrections.of(story.history).in_error == set()
