"""ISA-L's deflate and inflate inside zipfile's member streams: the same bytes, zlib's errors."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import pytest

from tagger import deflate

XML = ("".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>用户{i * 7919 % 1000}</t></is></c></row>'
               for i in range(1, 60_000))).encode()


def _written(path: Path, data: bytes = XML) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with deflate.open_for_writing(archive, zipfile.ZipInfo("xl/worksheets/sheet1.xml")) as stream:
            for start in range(0, len(data), 1 << 20):
                stream.write(data[start:start + (1 << 20)])
        archive.writestr("other.xml", b"<a/>")
    return path


def test_isal_writes_what_zlib_reads(tmp_path: Path) -> None:
    path = _written(tmp_path / "a.zip")
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None  # size and CRC of every member
        info = archive.getinfo("xl/worksheets/sheet1.xml")
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert info.compress_size < len(XML) / 5
        assert archive.read(info) == XML  # zipfile inflating with zlib
        with deflate.open_for_reading(archive, info) as stream:
            assert stream.read() == XML
        with deflate.open_for_reading(archive, info) as stream:
            pieces = iter(lambda: stream.read(65_536), b"")
            assert b"".join(pieces) == XML


def test_the_streams_use_isal(tmp_path: Path) -> None:
    """If a Python release renames zipfile's attributes, zlib is used again: slower, and this fails."""
    with zipfile.ZipFile(tmp_path / "b.zip", "w") as archive:
        stream = deflate.open_for_writing(archive, zipfile.ZipInfo("s.xml"))
        assert type(stream._compressor).__module__.startswith("isal")  # type: ignore[attr-defined]
        stream.close()
    with zipfile.ZipFile(tmp_path / "b.zip") as archive:
        stream = deflate.open_for_reading(archive, archive.getinfo("s.xml"))
        assert isinstance(stream._decompressor, deflate._Inflate)  # type: ignore[attr-defined]
        stream.close()


def test_a_damaged_stream_raises_zlibs_error(tmp_path: Path) -> None:
    path = _written(tmp_path / "c.zip")
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    raw = bytearray(path.read_bytes())
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    raw[middle:middle + 64] = b"\xff" * 64
    path.write_bytes(bytes(raw))
    with zipfile.ZipFile(path) as archive, pytest.raises(zlib.error, match="deflate"), \
            deflate.open_for_reading(archive, archive.getinfo(info.filename)) as stream:
        while stream.read(65_536):
            pass


def test_a_stored_member_is_read_as_stored(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "d.zip", "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("s.xml", XML)
    with zipfile.ZipFile(tmp_path / "d.zip") as archive, \
            deflate.open_for_reading(archive, archive.getinfo("s.xml")) as stream:
        assert stream.read() == XML
