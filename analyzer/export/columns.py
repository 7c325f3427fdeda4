"""The output columns, in order. Changing one is a documented, versioned change."""
from analyzer.score import RULES

FLAGGED_EXCERPTS = [
    "call_id", "file", "date", "salesperson", "account", "speaker", "start", "rule", "behavior",
    "polarity", "confidence", "detail", "excerpt", "context", "explanation", "review_verdict", "review_note",
]
CALL_SCORES = [
    "call_id", "file", "format", "date", "salesperson", "account", "salesperson_speaker",
    "salesperson_source", "salesperson_confidence", "speakers", "turns", "utterances",
    "salesperson_utterances",
] + [f"{rule}_{part}" for rule in RULES for part in ("score", "opportunities", "positive", "negative")] + [
    "pretending_to_know", "honest_uncertainty", "commitment", "commitment_specific", "ownership", "blame_shifting",
    "discovery_question", "reframing", "manipulation", "tailored_solution", "generic_pitch",
    "talk_ratio_words", "talk_ratio_time", "longest_monologue_words", "longest_monologue_seconds",
    "questions_asked", "open_questions", "closed_questions", "customer_focus", "repeated_mistakes",
    "account_source", "account_confidence",
]
GROUP_SCORES = [
    "rule", "calls", "applicable_calls", "mean_score", "consistency", "trend_per_30_days",
    "first_date", "last_date", "status",
]
REP_SCORES = ["salesperson"] + GROUP_SCORES
ACCOUNT_SCORES = ["account"] + GROUP_SCORES
COMMITMENTS = [
    "account", "call_id", "date", "salesperson", "owner", "action", "due", "due_phrase", "specificity", "status",
    "evidence_call_id", "evidence_date", "evidence_excerpt", "evidence_explanation", "overdue", "evidence", "mentions",
]
ERRORS = ["file", "severity", "code", "problem", "fix"]
ANNOTATION_KEYS = [
    "call_id", "file", "date", "salesperson", "account", "utterance_id", "turn", "speaker", "role",
    "start", "end", "char_start", "char_end", "text", "is_question", "responds_to", "findings",
]

TABLES = {
    "flagged_excerpts": FLAGGED_EXCERPTS,
    "call_scores": CALL_SCORES,
    "rep_scores": REP_SCORES,
    "account_scores": ACCOUNT_SCORES,
    "commitments": COMMITMENTS,
    "errors": ERRORS,
}

# What each column holds, for typed frames (load_results) and Parquet: one entry per column
# name, the same in every table it appears in. Kinds: text, category (a few repeated values),
# date (YYYY-MM-DD), duration (HH:MM:SS), int (a count), float. An empty cell is missing.
KINDS = {
    **dict.fromkeys(
        ["call_id", "file", "salesperson", "account", "speaker", "detail", "excerpt", "context", "explanation",
         "review_verdict", "review_note", "salesperson_speaker", "speakers", "owner", "action", "due_phrase",
         "evidence_call_id", "evidence_excerpt", "evidence_explanation", "evidence", "mentions", "problem", "fix"],
        "text"),
    **dict.fromkeys(
        ["format", "salesperson_source", "account_source", "rule", "behavior", "polarity", "specificity", "status", "overdue", "severity", "code"],
        "category"),
    **dict.fromkeys(["date", "first_date", "last_date", "due", "evidence_date"], "date"),
    "start": "duration",
    **dict.fromkeys(
        ["turns", "utterances", "salesperson_utterances", "calls", "applicable_calls", "commitment_specific",
         "longest_monologue_words", "questions_asked", "open_questions", "closed_questions", "repeated_mistakes",
         "pretending_to_know", "honest_uncertainty", "commitment", "ownership", "blame_shifting",
         "discovery_question", "reframing", "manipulation", "tailored_solution", "generic_pitch"]
        + [f"{rule}_opportunities" for rule in RULES], "int"),
    **dict.fromkeys(
        ["confidence", "salesperson_confidence", "account_confidence", "mean_score", "consistency", "trend_per_30_days",
         "talk_ratio_words", "talk_ratio_time", "longest_monologue_seconds", "customer_focus"]
        + [f"{rule}_{part}" for rule in RULES for part in ("score", "positive", "negative")], "float"),
}
