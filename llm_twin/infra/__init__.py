"""Embedded local services (MongoDB-wire warehouse, Kafka-compatible broker, RabbitMQ, Qdrant local mode)."""

from llm_twin.infra.services import LocalServices, ServiceError, ServiceStatus

__all__ = ["LocalServices", "ServiceError", "ServiceStatus"]
