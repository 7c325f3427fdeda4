"""Stable, documented output files. Column lists live here and nowhere else; the README and
the golden-header tests read the same lists."""
