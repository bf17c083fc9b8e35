"""Configuration: one schema per Hydra config group (named after it), and how to compose `conf/`.

`conf/<group>/<option>.yaml` files are the only source of defaults; `GROUP_SCHEMAS` maps each group to
the pydantic schema that validates every option of it (a test checks all of them). Schemas are light
(pydantic only), so any process, the Quix Source subprocess included, can import them.
"""

from llm_twin.config.author import AuthorConfig, ExportSpec, LocalRepository
from llm_twin.config.base import Schema
from llm_twin.config.cdc import CdcConfig
from llm_twin.config.compose import (
    ConfigChoiceError,
    compose,
    group,
    group_choices,
    load_group,
    validate_choices,
)
from llm_twin.config.crawl import CrawlConfig
from llm_twin.config.dataset import DatasetConfig
from llm_twin.config.embedding import EmbeddingConfig
from llm_twin.config.evaluation import EvaluationConfig
from llm_twin.config.features import FeaturesConfig
from llm_twin.config.infra import InfraConfig
from llm_twin.config.llm import LLMEndpointConfig
from llm_twin.config.model import ModelConfig
from llm_twin.config.monitoring import MonitoringConfig
from llm_twin.config.pipeline import PipelineConfig
from llm_twin.config.registry import GROUP_SCHEMAS, SELECTABLE_GROUPS
from llm_twin.config.release import ReleaseConfig, RetrainConfig
from llm_twin.config.retrieval import RetrievalConfig
from llm_twin.config.serving import ServingConfig
from llm_twin.config.stack import StackConfig
from llm_twin.config.stream import StreamConfig
from llm_twin.config.training import TrainingConfig

__all__ = [
    "GROUP_SCHEMAS",
    "SELECTABLE_GROUPS",
    "AuthorConfig",
    "CdcConfig",
    "ConfigChoiceError",
    "CrawlConfig",
    "DatasetConfig",
    "EmbeddingConfig",
    "EvaluationConfig",
    "ExportSpec",
    "FeaturesConfig",
    "InfraConfig",
    "LLMEndpointConfig",
    "LocalRepository",
    "ModelConfig",
    "MonitoringConfig",
    "PipelineConfig",
    "ReleaseConfig",
    "RetrainConfig",
    "RetrievalConfig",
    "Schema",
    "ServingConfig",
    "StackConfig",
    "StreamConfig",
    "TrainingConfig",
    "compose",
    "group",
    "group_choices",
    "load_group",
    "validate_choices",
]
