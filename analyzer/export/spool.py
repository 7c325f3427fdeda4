"""Rows each call leaves for a CSV, kept on disk while a run goes on and read back sorted by
call. Memory then holds one small key per call instead of its rows (a 45-minute call leaves
a hundred flagged rows and more), so a run's memory stays flat however many calls it sees."""
from __future__ import annotations

import itertools
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from analyzer.export.writers import json_line


class CallSpool:
    def __init__(self, folder: Path) -> None:
        self.handle = tempfile.TemporaryFile("w+b", dir=folder)  # gone when closed or killed
        self.blocks: list[tuple[tuple, int, int]] = []  # (sort key, offset, length)

    def add(self, key: tuple, rows: list[dict[str, Any]]) -> None:
        data = "".join(json_line(row) for row in rows).encode("utf-8")
        offset = self.handle.seek(0, 2)
        self.handle.write(data)
        self.blocks.append((key, offset, len(data)))

    def read_sorted(self) -> Iterator[list[dict[str, Any]]]:
        """Each call's rows, in the order of the calls' keys (ties in arrival order)."""
        return (rows for _, rows in self.read_sorted_with_keys())

    def read_groups(self) -> Iterator[tuple[tuple, list[dict[str, Any]]]]:
        """All rows of the calls that share a key (an account), one key at a time, in order."""
        for key, blocks in itertools.groupby(self.read_sorted_with_keys(), key=lambda item: item[0]):
            yield key, [row for _, rows in blocks for row in rows]

    def read_sorted_with_keys(self) -> Iterator[tuple[tuple, list[dict[str, Any]]]]:
        self.handle.flush()
        for key, offset, length in sorted(self.blocks, key=lambda block: block[0]):
            self.handle.seek(offset)
            yield key, [json.loads(line) for line in self.handle.read(length).decode("utf-8").splitlines()]

    def close(self) -> None:
        self.handle.close()
