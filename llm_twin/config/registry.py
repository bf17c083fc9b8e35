"""The one registry of config groups: `conf/<group>/*.yaml` ↔ the schema that validates it."""

from __future__ import annotations

from llm_twin.config.author import AuthorConfig
from llm_twin.config.base import Schema
from llm_twin.config.cdc import CdcConfig
from llm_twin.config.crawl import CrawlConfig
from llm_twin.config.dataset import DatasetConfig
from llm_twin.config.embedding import EmbeddingConfig
from llm_twin.config.evaluation import EvaluationConfig
from llm_twin.config.features import FeaturesConfig
from llm_twin.config.infra import InfraConfig
from llm_twin.config.model import ModelConfig
from llm_twin.config.monitoring import MonitoringConfig
from llm_twin.config.pipeline import PipelineConfig
from llm_twin.config.release import ReleaseConfig, RetrainConfig
from llm_twin.config.retrieval import RetrievalConfig
from llm_twin.config.serving import ServingConfig
from llm_twin.config.stack import StackConfig
from llm_twin.config.stream import StreamConfig
from llm_twin.config.training import TrainingConfig

GROUP_SCHEMAS: dict[str, type[Schema]] = {
    "pipeline": PipelineConfig,
    "model": ModelConfig,
    "embedding": EmbeddingConfig,
    "infra": InfraConfig,
    "stack": StackConfig,
    "author": AuthorConfig,
    "crawl": CrawlConfig,
    "features": FeaturesConfig,
    "cdc": CdcConfig,
    "stream": StreamConfig,
    "dataset": DatasetConfig,
    "training": TrainingConfig,
    "evaluation": EvaluationConfig,
    "retrieval": RetrievalConfig,
    "serving": ServingConfig,
    "monitoring": MonitoringConfig,
    "release": ReleaseConfig,
    "retrain": RetrainConfig,
}

SELECTABLE_GROUPS = tuple(GROUP_SCHEMAS)
