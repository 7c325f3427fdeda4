"""loyalty-analyzer: finds the salesperson's moments that keep or break seven rules of
customer loyalty in recorded-call transcripts, scores them and aggregates across calls.

The Python API is the same functions the CLI calls."""
from importlib.metadata import version

from analyzer.ingest import read_call
from analyzer.pipeline import Analyzer, analyze_folder
from analyzer.segment import segment_call
from analyzer.settings import Settings

__all__ = ["Analyzer", "Settings", "analyze_folder", "read_call", "segment_call"]
__version__ = version("loyalty-analyzer")
