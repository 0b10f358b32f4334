"""Which encoding a text file is in, decided by strict decoding, never by guessing.

UTF-8 (with or without BOM) is tried first, then GBK, then GB18030 (its superset). The first
that decodes every byte wins. When none does, the file has a broken byte: it is reported in the
encoding that decoded the most of the file, with its offset, row and column.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from datapolis.ingest.errors import TerminalSourceError

UTF8_BOM = codecs.BOM_UTF8
CANDIDATES = ("utf-8", "gbk", "gb18030")
_CHUNK = 1 << 20


def first_bad_byte(path: Path, encoding: str) -> int | None:
    """Offset of the first byte `encoding` cannot decode, or None when the whole file decodes."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    consumed = 0
    with path.open("rb") as stream:
        while True:
            chunk = stream.read(_CHUNK)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return consumed - pending + exc.start
            if not chunk:
                return None
            consumed += len(chunk)


def detect(path: Path, *, delimiter: str = ",") -> str:
    """The Python codec name to read `path` with; a TerminalSourceError on a broken byte."""
    with path.open("rb") as stream:
        bom = stream.read(len(UTF8_BOM)) == UTF8_BOM
    failures: dict[str, int] = {}
    for encoding in ("utf-8",) if bom else CANDIDATES:
        offset = first_bad_byte(path, encoding)
        if offset is None:
            return "utf-8-sig" if bom else encoding
        failures[encoding] = offset
    encoding, offset = max(failures.items(), key=lambda item: item[1])
    raise undecodable(path, "utf-8-sig" if bom else encoding, offset, delimiter=delimiter)


def undecodable(path: Path, encoding: str, offset: int, *,
                delimiter: str = ",") -> TerminalSourceError:
    """Where the broken byte sits: data row (1 = first row after the header) and column."""
    with path.open("rb") as stream:
        prefix = stream.read(offset)
        bad = stream.read(1)
    text = prefix.decode(encoding, errors="replace")
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    with path.open("r", encoding=encoding, errors="replace", newline="") as stream:
        header = next(csv.reader(stream, delimiter=delimiter), [])
    at_row_start = not text or text.endswith(("\n", "\r"))
    if at_row_start:
        row, column = len(records), 0
    else:
        row, column = len(records) - 1, max(len(records[-1]) - 1, 0)
    name = header[column] if column < len(header) else f"#{column + 1}"
    where = "the header" if row == 0 else f"row {row}"
    return TerminalSourceError(
        f"file {path.name}: byte 0x{bad.hex() or '??'} at offset {offset} ({where}, "
        f"column {name}) is not valid {encoding}; the file is not UTF-8, GBK or GB18030")
