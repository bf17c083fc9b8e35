"""Importers for the platforms' official data exports (which the author owns and which do not break
when a site's markup changes): Medium, Substack, LinkedIn, and a folder of Markdown files."""

from pathlib import Path

from llm_twin.config.author import ExportSpec
from llm_twin.config.crawl import ExportLimitsConfig
from llm_twin.importers.base import ExportArchive, Importer, ImportRecord
from llm_twin.importers.linkedin import LinkedInExportImporter
from llm_twin.importers.markdown import MarkdownFolderImporter
from llm_twin.importers.medium import MediumExportImporter
from llm_twin.importers.substack import SubstackExportImporter

IMPORTERS: dict[str, type[Importer]] = {
    "medium": MediumExportImporter,
    "substack": SubstackExportImporter,
    "linkedin": LinkedInExportImporter,
    "markdown": MarkdownFolderImporter,
}


def importer_for(spec: ExportSpec, root: Path, limits: ExportLimitsConfig) -> Importer:
    """The importer of an export spec; relative paths are resolved against `root` (the project root)."""
    return IMPORTERS[spec.kind](spec, root, limits)


__all__ = ["IMPORTERS", "ExportArchive", "ImportRecord", "Importer", "importer_for"]
