"""Turning one source's outcome into an `ItemResult`: a stored document, or a failure with its reason."""

from __future__ import annotations

import logging
import time

from llm_twin.collection.models import ItemResult, ItemStatus
from llm_twin.crawlers.errors import CollectError
from llm_twin.domain.documents import Document
from llm_twin.warehouse import Warehouse, WarehouseError

log = logging.getLogger("llm_twin.collection.collector")


def stored(warehouse: Warehouse, document: Document, source: str, origin: str, crawler: str | None,
           started: float) -> ItemResult:
    """Upsert `document` (validated first, nothing partial) and say whether it was new, updated or unchanged."""
    try:
        result = warehouse.upsert(document)
    except (ValueError, TypeError, WarehouseError) as exc:
        return failed(source, origin, CollectError("warehouse", str(exc)), crawler, started)
    return ItemResult(
        source=source,
        origin=origin,
        status=ItemStatus(result.status.value),
        crawler=crawler,
        data_type=document.data_type.value,
        platform=document.platform,
        link=result.link,
        document_id=result.id,
        seconds=round(time.monotonic() - started, 3),
    )


def failed(source: str, origin: str, error: CollectError, crawler: str | None, started: float) -> ItemResult:
    log.warning("failed %s: %s", source, error)
    return ItemResult(source=source, origin=origin, status=ItemStatus.FAILED, crawler=crawler,
                      reason=error.reason, error=error.message, seconds=round(time.monotonic() - started, 3))
