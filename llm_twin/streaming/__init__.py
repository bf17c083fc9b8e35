"""The streaming feature pipeline: RabbitMQ → Quix Streams (Kafka) → clean/chunk/embed → Qdrant.

Import sub-modules directly; this package stays import-light because Quix spawns the RabbitMQ Source in
a subprocess that imports `llm_twin.streaming.source`.
"""
