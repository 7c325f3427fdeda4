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
