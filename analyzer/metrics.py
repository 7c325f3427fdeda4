"""R4 call metrics: who talks, for how long, how many questions, and whose world the
salesperson talks about. Plain counts over the segmented call, no model."""
from __future__ import annotations

import re

from analyzer.model import CallMetrics, ParsedCall, Role

_WORD = re.compile(r"[\w']+")
_CUSTOMER_WORDS = {"you", "your", "yours", "you're", "you've", "you'll", "you'd", "yourself", "yourselves", "y'all"}
_SELF_WORDS = {"i", "i'm", "i've", "i'll", "i'd", "me", "my", "mine", "we", "we're", "we've", "we'll", "we'd",
               "us", "our", "ours"}
_OPEN_STARTS = re.compile(
    r"^(?:\W*(?:so|and|um|uh|okay|ok|well|but|yeah|now)\W+)*(?:what|how|why|which|who|where|when|walk me|tell me|talk me|help me understand|describe)\b"
)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def call_metrics(parsed: ParsedCall) -> CallMetrics:
    rep_words = total_words = 0
    rep_time = total_time = 0.0
    timed = True
    you = me = 0
    questions = open_questions = 0
    longest_words, longest_seconds = 0, None
    run_words, run_start, run_end = 0, None, None
    for u in parsed.utterances:
        count = len(words(u.text))
        total_words += count
        duration = (u.end - u.start) if u.start is not None and u.end is not None else None
        if duration is None:
            timed = False
        else:
            total_time += duration
        if u.role is Role.SALESPERSON:
            rep_words += count
            rep_time += duration or 0.0
            tokens = words(u.text)
            you += sum(t in _CUSTOMER_WORDS for t in tokens)
            me += sum(t in _SELF_WORDS for t in tokens)
            if u.is_question:
                questions += 1
                open_questions += bool(_OPEN_STARTS.search(u.text.lower()))
            run_words += count
            run_start = u.start if run_start is None else run_start
            run_end = u.end
        elif not u.is_backchannel:
            run_words, run_start, run_end = 0, None, None
        if run_words > longest_words:
            longest_words = run_words
            longest_seconds = round(run_end - run_start, 1) if run_start is not None and run_end is not None else None
    return CallMetrics(
        talk_ratio_words=round(rep_words / total_words, 3) if total_words else None,
        talk_ratio_time=round(rep_time / total_time, 3) if timed and total_time > 0 else None,
        longest_monologue_words=longest_words,
        longest_monologue_seconds=longest_seconds,
        questions_asked=questions,
        open_questions=open_questions,
        closed_questions=questions - open_questions,
        customer_focus=round(you / (you + me), 3) if you + me else None,
    )
