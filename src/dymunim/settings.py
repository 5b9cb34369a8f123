"""The one place that reads the environment: every setting, typed, with its default.

`.env.example` lists the same variables with a comment each; keep the two in step.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # Where things run
    database_url: str | None = Field(default=None, description="Postgres with pgmq; unset = embedded")
    data_dir: Path = Field(default=Path(".dymunim"), alias="DYMUNIM_DATA_DIR")
    host: str = Field(default="127.0.0.1", alias="DYMUNIM_HOST")
    port: int = Field(default=3000, alias="DYMUNIM_PORT")
    api_token: str | None = Field(default=None, alias="DYMUNIM_API_TOKEN")

    # The executor
    cloudflare_worker_url: str | None = None
    executor_token: str | None = None
    executor_url: str | None = Field(
        default=None, alias="DYMUNIM_EXECUTOR_URL", description="set by `up` for its children"
    )
    executor_port: int = Field(default=0, alias="DYMUNIM_EXECUTOR_PORT")
    executor_processes: int = Field(default=0, alias="DYMUNIM_EXECUTOR_PROCESSES")
    executor_max_rss_mb: int = Field(default=512, alias="DYMUNIM_EXECUTOR_MAX_RSS_MB")
    executor_max_isolates: int = Field(default=2000, alias="DYMUNIM_EXECUTOR_MAX_ISOLATES")
    worker_dir: Path | None = Field(default=None, alias="DYMUNIM_WORKER_DIR")
    up_state_file: Path | None = Field(
        default=None, alias="DYMUNIM_UP_STATE_FILE", description="set by `up` for its children"
    )

    # Jobs
    default_timeout_ms: int = Field(default=30_000, alias="DYMUNIM_DEFAULT_TIMEOUT_MS")
    max_timeout_ms: int = Field(default=300_000, alias="DYMUNIM_MAX_TIMEOUT_MS")
    default_max_attempts: int = Field(default=3, alias="DYMUNIM_DEFAULT_MAX_ATTEMPTS")
    max_code_bytes: int = Field(default=1_048_576, alias="DYMUNIM_MAX_CODE_BYTES")
    submit_rate_per_s: float = Field(default=0.0, alias="DYMUNIM_SUBMIT_RATE_PER_S")
    submit_burst: float = Field(default=100.0, alias="DYMUNIM_SUBMIT_BURST")
    max_body_bytes: int = Field(default=1_048_576, alias="DYMUNIM_MAX_BODY_BYTES")
    max_log_lines: int = Field(default=1000, alias="DYMUNIM_MAX_LOG_LINES")
    max_log_bytes: int = Field(default=65_536, alias="DYMUNIM_MAX_LOG_BYTES")
    max_result_bytes: int = Field(default=1_048_576, alias="DYMUNIM_MAX_RESULT_BYTES")

    # Dispatch
    visibility_timeout_s: int = Field(default=30, alias="DYMUNIM_VISIBILITY_TIMEOUT_S")
    read_batch: int = Field(default=500, alias="DYMUNIM_READ_BATCH")
    exec_batch: int = Field(default=500, ge=1, le=1000, alias="DYMUNIM_EXEC_BATCH")
    claim_loops: int = Field(default=2, ge=1, le=16, alias="DYMUNIM_CLAIM_LOOPS")
    max_in_flight: int = Field(default=2000, alias="DYMUNIM_MAX_IN_FLIGHT")
    poll_interval_s: float = Field(default=1.0, alias="DYMUNIM_POLL_INTERVAL_S")
    retry_base_s: float = Field(default=1.0, alias="DYMUNIM_RETRY_BASE_S")
    retry_cap_s: float = Field(default=300.0, alias="DYMUNIM_RETRY_CAP_S")
    infra_max_attempts: int = Field(default=10, ge=1, le=100, alias="DYMUNIM_INFRA_MAX_ATTEMPTS")
    max_deliveries: int = Field(default=10, alias="DYMUNIM_MAX_DELIVERIES")
    shutdown_grace_s: float = Field(default=10.0, alias="DYMUNIM_SHUTDOWN_GRACE_S")
    overdue_margin_s: float = Field(default=30.0, ge=0, alias="DYMUNIM_OVERDUE_MARGIN_S")
    direct_dispatch: bool = Field(default=True, alias="DYMUNIM_DIRECT_DISPATCH")

    # Schedules, events and chains
    misfire_grace_s: float = Field(default=60.0, ge=0, alias="DYMUNIM_MISFIRE_GRACE_S")
    max_children: int = Field(default=100, ge=0, le=10_000, alias="DYMUNIM_MAX_CHILDREN")

    # Workflows
    max_steps: int = Field(default=1000, ge=1, le=100_000, alias="DYMUNIM_MAX_STEPS")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
