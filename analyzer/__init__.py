"""loyalty-analyzer: finds the salesperson's moments that keep or break seven rules of
customer loyalty in recorded-call transcripts, scores them and aggregates across calls.

The Python API is the same functions the CLI calls, plus `load_results(out_dir)`: the output
tables as typed pandas frames."""
from importlib.metadata import version

from analyzer.ingest import read_call
from analyzer.analysis import Analyzer
from analyzer.pipeline import analyze_folder
from analyzer.segment import segment_call
from analyzer.settings import Settings

__all__ = ["Analyzer", "Settings", "analyze_folder", "load_results", "read_call", "segment_call"]
__version__ = version("loyalty-analyzer")


def __getattr__(name: str):
    if name == "load_results":  # pandas and pyarrow (~100 MB) load only when asked for
        from analyzer.export.tables import load_results

        return load_results
    raise AttributeError(f"module 'analyzer' has no attribute {name!r}")
