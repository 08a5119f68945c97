"""Deflate and inflate of the big xlsx parts by ISA-L (python-isal) instead of zlib.

A million-user workbook holds about 2 GB of sheet XML. On it, ISA-L's level 1 deflates four
times as fast as zlib's level 1 for the same size, and inflates two to three times as fast
(benchmarks/README.md). The output is ordinary deflate: Excel, WPS, LibreOffice, openpyxl and
calamine read it like any other.

zipfile has no hook for choosing a compressor. Its member streams keep theirs in one attribute
(``_compressor`` when writing, ``_decompressor`` when reading; both since Python 3.6), and
these functions swap it before a byte passes. Where that attribute is missing (a future
zipfile), zlib stays: slower, never wrong. ``tests/test_deflate.py`` notices the day that happens.
"""

from __future__ import annotations

import zipfile
import zlib
from typing import IO, Any, cast

from isal import isal_zlib

LEVEL = 1  # ISA-L's levels run 0-3; 1 is as small as zlib's 1 and as fast as ISA-L's 0 here
_ISAL_ERROR = cast("type[Exception]", isal_zlib.error)  # its stub declares an instance


def open_for_writing(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, level: int = LEVEL) -> IO[bytes]:
    """``archive.open(entry, "w")`` for a large part, deflated by ISA-L at ``level``."""
    entry.compress_type = zipfile.ZIP_DEFLATED
    stream = archive.open(entry, "w", force_zip64=True)
    if getattr(stream, "_compressor", None) is not None:
        stream._compressor = isal_zlib.compressobj(level, isal_zlib.DEFLATED, -zlib.MAX_WBITS)  # type: ignore[attr-defined]
    return stream


def open_for_reading(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> IO[bytes]:
    """``archive.open(info)``, a deflated part inflated by ISA-L; a damaged stream still raises ``zlib.error``."""
    stream = archive.open(info)
    if info.compress_type == zipfile.ZIP_DEFLATED and getattr(stream, "_decompressor", None) is not None:
        stream._decompressor = _Inflate()  # type: ignore[attr-defined]
    return stream


class _Inflate:
    """ISA-L's raw inflate with zlib's interface and zlib's error type (callers catch ``zlib.error``)."""

    def __init__(self) -> None:
        self._inflate: Any = isal_zlib.decompressobj(-zlib.MAX_WBITS)

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        try:
            out: bytes = self._inflate.decompress(data, max_length)
        except _ISAL_ERROR as error:
            raise zlib.error(str(error)) from error
        return out

    def flush(self, length: int = zlib.DEF_BUF_SIZE) -> bytes:
        try:
            out: bytes = self._inflate.flush(length)
        except _ISAL_ERROR as error:
            raise zlib.error(str(error)) from error
        return out

    @property
    def unconsumed_tail(self) -> bytes:
        tail: bytes = self._inflate.unconsumed_tail
        return tail

    @property
    def eof(self) -> bool:
        return bool(self._inflate.eof)


__all__ = ["LEVEL", "open_for_reading", "open_for_writing"]
