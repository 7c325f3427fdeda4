"""Segmentation: sentence pieces with offsets back into the turn, speech-to-text run-ons cut
into sensible pieces, questions, backchannels and what each salesperson line answers."""
from __future__ import annotations

from analyzer.model import Role
from analyzer.segment import MAX_WORDS, MIN_WORDS
from conftest import parse

RUN_ON = (
    "so um basically what we do is we take your existing routes and we look at where the trucks sit idle "
    "and then we figure out how to fill that time because honestly most fleets your size are losing like "
    "eight grand a week on empty miles and i think we can help you with that so do you know how many trucks "
    "sit idle on an average tuesday and what does that cost you per hour roughly yeah and the other thing is "
    "our dispatch board updates every thirty seconds so your planners always see the latest picture and "
    "they can move loads around without calling the drivers every time something changes on the road"
)


def test_segment_offsets_point_into_the_turn():
    parsed = parse(
        ("Rep", "Thanks for making the time today. What matters most to you this year? We help fleets of your size run leaner."),
        ("Cust", "Uptime, mostly."),
    )
    turn_text = parsed.call.turns[0].text
    rep = [u for u in parsed.utterances if u.turn == 0]
    assert [u.text for u in rep] == [
        "Thanks for making the time today.", "What matters most to you this year?", "We help fleets of your size run leaner."
    ]
    for u in rep:
        assert turn_text[u.char_start:u.char_end] == u.text


def test_segment_unpunctuated_run_on_is_cut():
    parsed = parse(("Rep", RUN_ON), ("Cust", "ok"))
    pieces = [u for u in parsed.utterances if u.turn == 0]
    assert len(pieces) >= 6
    assert all(len(u.text.split()) < MAX_WORDS + MIN_WORDS for u in pieces)  # no tail under MIN_WORDS
    assert " ".join(u.text for u in pieces) == RUN_ON
    assert any(u.text.startswith("so do you know") or u.text.startswith("do you know") for u in pieces)


def test_segment_times_interpolate_within_the_turn():
    parsed = parse(("Rep", RUN_ON), ("Cust", "ok"))
    starts = [u.start for u in parsed.utterances if u.turn == 0]
    assert starts[0] == 0.0 and starts == sorted(starts) and starts[-1] < 9.0


def test_segment_short_sentences_join_a_neighbour():
    parsed = parse(("Rep", "It would. It's tight, but it works on paper. Sure."), ("Cust", "Mm-hm."))
    assert [u.text for u in parsed.utterances] == ["It would. It's tight, but it works on paper. Sure.", "Mm-hm."]


def test_segment_questions_and_backchannels():
    parsed = parse(
        ("Rep", "what does a good quarter look like for you"),
        ("Cust", "Mm-hm."),
        ("Rep", "We ship weekly."),
    )
    first, backchannel, statement = parsed.utterances
    assert first.is_question and not statement.is_question
    assert backchannel.is_backchannel and backchannel.role is Role.CUSTOMER


def test_segment_responds_to_skips_backchannels_and_prefers_the_question():
    parsed = parse(
        ("Cust", "Will it integrate with our TMS? Just curious."),
        ("Rep", "Good question."),
        ("Cust", "Right."),
        ("Rep", "Honestly I don't know yet."),
    )
    question = parsed.utterances[0]
    answers = [u for u in parsed.utterances if u.role is Role.SALESPERSON]
    assert question.is_question
    assert all(u.responds_to == question.id for u in answers)


def test_segment_loads_no_spacy_plugin_it_does_not_need():
    """Segmentation builds its blank pipeline without spaCy's entry-point scan, which would
    import Presidio and transformers' pipelines into every process (docs/speed.md)."""
    import subprocess
    import sys

    probe = ("import sys; from analyzer import nlp; "
             "assert nlp.sentences(['Hi there. How are you?'])[0][1][0].lower == 'how'; "
             "print(sorted(m for m in ('presidio_analyzer', 'transformers.pipelines') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
