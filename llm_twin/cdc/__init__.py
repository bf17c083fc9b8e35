"""Change data capture: warehouse change streams → RabbitMQ, with resume tokens, snapshot and reconciliation.

Keep this package import light (pika, pymongo, pydantic): the Quix Source subprocess imports it.
"""
