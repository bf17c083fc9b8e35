"""Common parts of the export importers: archive access and per-entry records.

An export is read from a folder (an unzipped export) or directly from the zip the platform gave the
author. Zip members are read with size limits and path checks, so a hostile or broken archive yields a
clear error instead of filling the disk. Each entry becomes one record: a validated document, or an
error naming the entry and the cause; one bad entry never hides the others.
"""

from __future__ import annotations

import zipfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Self

from pydantic import ValidationError

from llm_twin.config.author import ExportSpec
from llm_twin.crawlers.errors import CollectError
from llm_twin.domain.documents import Document, User

MAX_MEMBER_BYTES = 20_000_000


@dataclass
class ImportRecord:
    """One entry of an export: `document` when it parsed and validated, else `error`."""

    source: str
    document: Document | None = None
    error: CollectError | None = None


class ExportArchive:
    """Uniform read access to a folder or a zip file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        if not path.exists():
            raise CollectError("not_found", f"export {path} does not exist")
        if path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise CollectError("bad_export", f"{path} is neither a folder nor a readable zip: {exc}") from exc

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
        if self._zip is not None:
            info = self._zip.getinfo(name)
            if info.file_size > MAX_MEMBER_BYTES:
                raise CollectError("too_large", f"{name} is {info.file_size} bytes, over {MAX_MEMBER_BYTES}")
            try:
                return self._zip.read(name)
            except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
                raise CollectError("bad_export", f"cannot read {name} from {self.path.name}: {exc}") from exc
        file = self.path / name
        if file.stat().st_size > MAX_MEMBER_BYTES:
            raise CollectError("too_large", f"{name} is over {MAX_MEMBER_BYTES} bytes")
        return file.read_bytes()

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

    def __init__(self, spec: ExportSpec, root: Path) -> None:
        self.spec = spec
        path = Path(spec.path)
        self.path = path if path.is_absolute() else (root / path)

    def records(self, author: User) -> Iterator[ImportRecord]:
        """All entries of the export; errors of the whole export (missing, unreadable) are raised."""
        with ExportArchive(self.path) as archive:
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
