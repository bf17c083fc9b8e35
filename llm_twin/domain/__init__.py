"""Data contracts shared by every stage: warehouse documents, queue messages, feature-store payloads."""
