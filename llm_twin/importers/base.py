"""Common parts of the export importers: bounded archive access and per-entry records.

An export is read from a folder (an unzipped export) or directly from the zip the platform gave the
author. Zip members are read through a bounded reader: it counts the bytes that decompression really
produces (a header can lie about a member's size), stops at `max_member_bytes`, refuses members whose
compression ratio marks a zip bomb and archives with too many members, and never holds more than one
member's allowed size in memory. Only stored and deflated members are read (bzip2 / lzma decompress in
unbounded steps in the standard library; platform exports never use them). Each entry becomes one
record: a validated document, or an error naming the entry and the cause; one bad entry never hides the
others. A record marked `skipped` is a piece of input that could not be parsed at all (a malformed CSV
row, an oversized cell): it is reported with the skipped items, not as a failed document.
"""

from __future__ import annotations

import zipfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Self
from zlib import error as zlib_error

from pydantic import ValidationError

from llm_twin.config.author import ExportSpec
from llm_twin.config.crawl import ExportLimitsConfig
from llm_twin.crawlers.errors import CollectError
from llm_twin.domain.documents import Document, User

CHUNK = 65536
READABLE_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}


def read_bounded(stream: IO[bytes], name: str, limits: ExportLimitsConfig, compressed_size: int | None = None) -> bytes:
    """Read `stream` in chunks, refusing it as soon as the real size or compression ratio is too large."""
    out = bytearray()
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            return bytes(out)
        out += chunk
        if len(out) > limits.max_member_bytes:
            raise CollectError("too_large", f"{name} decompresses to more than {limits.max_member_bytes} bytes "
                                            "(the limit for one export file); it was not read further")
        if (compressed_size is not None and len(out) > limits.ratio_grace_bytes
                and len(out) > limits.max_ratio * max(compressed_size, 1)):
            raise CollectError("zip_bomb", f"{name} expands more than {limits.max_ratio:g}x ({compressed_size} "
                                           f"compressed bytes gave over {len(out)}): refused as a zip bomb")


@dataclass
class ImportRecord:
    """One entry of an export: `document` when it parsed and validated, else `error`.

    `skipped`: the input could not even be parsed into an entry (a malformed CSV row); reported as skipped.
    """

    source: str
    document: Document | None = None
    error: CollectError | None = None
    skipped: bool = False


class ExportArchive:
    """Uniform, bounded read access to a folder or a zip file."""

    def __init__(self, path: Path, limits: ExportLimitsConfig) -> None:
        self.path = path
        self.limits = limits
        self._zip: zipfile.ZipFile | None = None
        if not path.exists():
            raise CollectError("not_found", f"export {path} does not exist")
        if path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise CollectError("bad_export", f"{path} is neither a folder nor a readable zip: {exc}") from exc
            count = len(self._zip.infolist())
            if count > self.limits.max_members:
                self._zip.close()
                raise CollectError("bad_export", f"{path.name} has {count} entries, over the "
                                                 f"{self.limits.max_members} limit for an export")

    def names(self) -> list[str]:
        if self._zip is not None:
            names = []
            for info in self._zip.infolist():
                pure = PurePosixPath(info.filename)
                if info.is_dir() or pure.is_absolute() or ".." in pure.parts or "__MACOSX" in pure.parts:
                    continue
                names.append(pure.as_posix())
            return sorted(names)
        return sorted(p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file())

    def read(self, name: str) -> bytes:
        """The bytes of one file, bounded by the archive limits; `CollectError` names the file and the cause."""
        if self._zip is not None:
            return self._read_member(name)
        file = self.path / name
        if file.stat().st_size > self.limits.max_member_bytes:
            raise CollectError("too_large", f"{name} is over {self.limits.max_member_bytes} bytes")
        with file.open("rb") as stream:  # the file may grow between stat and read
            return read_bounded(stream, name, self.limits)

    def _read_member(self, name: str) -> bytes:
        assert self._zip is not None
        info = self._zip.getinfo(name)
        limits = self.limits
        if info.compress_type not in READABLE_METHODS:
            raise CollectError("bad_member", f"{name} uses compression method {info.compress_type}; only "
                                             f"{sorted(READABLE_METHODS.values())} members are read")
        if info.flag_bits & 0x1:
            raise CollectError("bad_member", f"{name} is encrypted")
        if info.file_size > limits.max_member_bytes:
            raise CollectError("too_large", f"{name} is {info.file_size} bytes, over {limits.max_member_bytes}")
        if (info.compress_type == zipfile.ZIP_DEFLATED and info.file_size > limits.ratio_grace_bytes
                and info.file_size > limits.max_ratio * max(info.compress_size, 1)):
            raise CollectError("zip_bomb", f"{name} declares {info.file_size} bytes from {info.compress_size} "
                                           f"compressed (over {limits.max_ratio:g}x): refused as a zip bomb")
        try:
            with self._zip.open(info) as stream:
                data = read_bounded(stream, name, limits, info.compress_size)
        except (zipfile.BadZipFile, zlib_error, EOFError, OSError, RuntimeError) as exc:
            raise CollectError("bad_member", f"cannot read {name} from {self.path.name}: {exc} (declared size "
                                             f"{info.file_size} bytes; the archive is corrupt or its header does "
                                             "not match the data)") from exc
        return data

    def read_text(self, name: str) -> str:
        data = self.read(name)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return data.decode("latin-1")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Importer(ABC):
    """Reads one kind of export into records."""

    kind: str = "base"

    def __init__(self, spec: ExportSpec, root: Path, limits: ExportLimitsConfig) -> None:
        self.spec = spec
        self.limits = limits
        path = Path(spec.path)
        self.path = path if path.is_absolute() else (root / path)

    def records(self, author: User) -> Iterator[ImportRecord]:
        """All entries of the export; errors of the whole export (missing, unreadable) are raised."""
        with ExportArchive(self.path, self.limits) as archive:
            yield from self.read(archive, author)

    @abstractmethod
    def read(self, archive: ExportArchive, author: User) -> Iterator[ImportRecord]: ...

    @staticmethod
    def guarded(source: str, build) -> ImportRecord:
        """Run a per-entry builder, turning any parse / validation problem into that entry's error."""
        try:
            return ImportRecord(source=source, document=build())
        except CollectError as exc:
            return ImportRecord(source=source, error=exc)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first.get("loc", ()))
            return ImportRecord(source=source, error=CollectError("invalid_document", f"{loc}: {first.get('msg')}"))
        except (ValueError, KeyError, UnicodeError) as exc:
            return ImportRecord(source=source, error=CollectError("parse", f"{exc.__class__.__name__}: {exc}"))
