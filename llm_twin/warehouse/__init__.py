"""MongoDB warehouse: users and the articles / posts / repositories collections."""

from llm_twin.warehouse.repository import UpsertResult, UpsertStatus, Warehouse, WarehouseError

__all__ = ["UpsertResult", "UpsertStatus", "Warehouse", "WarehouseError"]
