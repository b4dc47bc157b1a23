"""Settings: read once at the entry point (CLI or flow), then handed down as small frozen option objects.

Every field can be set in the environment with the ``MEDIAWATCH_`` prefix (``MEDIAWATCH_MODEL=en_core_web_md``)
or in a ``.env`` file; the CLI's flags override them. Tasks never read the environment themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from storage.lake import Lake


# Never written into a run's parameters (see Settings.run_parameters).
PRIVATE_SETTINGS = frozenset({"user_agent", "contact", "alert_webhook_url", "s3_access_key", "s3_secret_key"})


class Settings(BaseSettings):
    """All of mediawatch's knobs, with the defaults a single machine should use."""

    model_config = SettingsConfigDict(env_prefix="MEDIAWATCH_", env_file=".env", extra="ignore")

    data_dir: str = Field("data", description="Data directory (path or filesystem URI such as s3://bucket/news).")
    model: str = Field("en_core_web_sm", description="spaCy model package for English (sm, md or lg).")
    batch_size: int = Field(
        200, ge=1, description="Items per batch; bounds memory and sets how many task runs the UI shows."
    )
    nlp_batch_size: int = Field(64, ge=1, description="Texts per spaCy nlp.pipe batch.")
    n_process: int = Field(
        2, ge=1, description="Worker processes for the NLP stage (1: in the flow's process). Each loads the model."
    )
    clean_workers: int = Field(
        2, ge=0, description="Worker processes cleaning HTML, each page under a hard time limit (0: in-process)."
    )
    clean_timeout_seconds: float = Field(5.0, gt=0, description="Time budget for cleaning one page.")
    # 500,000: 13 times the longest of 976 real article texts (37,289 characters) and half spaCy's own limit;
    # longer is a dump (a whole feed or transcript in one item), rejected before the NLP stage.
    max_text_chars: int = Field(
        500_000, ge=1, description="Longest main text kept, in characters (longer: quarantined as text_too_long)."
    )
    with_figures: bool = Field(True, description="Extract figures (money, percentages, quantities, dates...).")
    max_payload_bytes: int = Field(
        65_536, ge=0, description="Bytes of raw payload kept per quarantined item (the rest is cut, flagged)."
    )
    keep_raw: bool = Field(True, description="Keep each article's page as it arrived in `raw`, for replay.")
    max_file_bytes: int = Field(20_000_000, ge=1, description="Largest local file read (after gunzip).")
    state_dir: str = Field(
        "", description="Local directory for fetch state (default: <data_dir>/_state; needed for remote lakes)."
    )
    dedup_window_days: int = Field(30, ge=1, description="How far back the dedup index looks for originals.")
    lock_wait_seconds: float = Field(
        0.0, ge=0, description="How long a run waits for another run on the same data directory."
    )
    # Object store (a data directory s3://bucket/prefix). Each one left empty comes from the standard AWS variables
    # (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID...), ~/.aws or an instance role.
    s3_endpoint: str = Field(
        "", description="S3-compatible endpoint URL (e.g. http://127.0.0.1:9000); empty: AWS's own endpoints."
    )
    s3_region: str = Field("", description="Region of the bucket (e.g. us-east-1).")
    s3_access_key: str = Field("", description="Access key id of the object store.")
    s3_secret_key: SecretStr = Field(
        SecretStr(""), description="Secret key of the object store (never logged, never stored with a run)."
    )
    cache_dir: str = Field(
        "",
        description="Local directory for a remote lake's caches (dedup index); default: one per lake in the "
        "system's temporary directory.",
    )
    # Fetching (used by web sources).
    allow_networks: str = Field(
        "",
        description="Comma-separated CIDRs that fetching may reach despite being private (e.g. 127.0.0.0/8).",
    )
    host_delay_seconds: float = Field(1.0, ge=0, description="Minimum delay between requests to one host.")
    user_agent: str = Field("", description="User-Agent header; defaults to mediawatch/<version> (+contact).")
    contact: str = Field("", description="Contact URL or e-mail put in the User-Agent.")
    max_bytes: int = Field(10_000_000, ge=1, description="Largest HTTP response body accepted.")
    connect_timeout: float = Field(5.0, gt=0, description="Seconds to establish a connection.")
    read_timeout: float = Field(15.0, gt=0, description="Seconds to wait between bytes of a response.")
    total_timeout: float = Field(30.0, gt=0, description="Deadline for one whole request.")
    retries: int = Field(3, ge=0, description="Retries of a transient fetch failure.")
    refetch: bool = Field(False, description="Fetch article URLs again even if fetched in an earlier run.")
    reprocess: bool = Field(
        False, description="Read local files and WARC records again even if processed from the same file version."
    )
    follow_symlinks: bool = Field(
        False, description="Follow links in input folders (and sources files) to files outside them."
    )
    fetch_workers: int = Field(8, ge=1, description="Threads fetching from different hosts at once.")
    fetch_host_budget_seconds: float = Field(
        300.0, gt=0, description="Request time one host may use in a run; its remaining URLs wait for the next run."
    )
    fetch_run_budget_seconds: float = Field(
        1800.0, gt=0, description="Wall time a run may spend fetching; after it the rest waits for the next run."
    )

    # Outcomes and alerts.
    # One half: a source whose pages all stop extracting (a redesign) pushes a mixed run well past it, while the
    # bundled samples, which are built to exercise quarantine, stay at a quarter.
    degraded_quarantine_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of the items that entered a run which, once quarantined, makes the run degraded.",
    )
    alert_webhook_url: str = Field(
        "", description="Webhook the alert automation notifies (mediawatch serve / mediawatch alerts set it up)."
    )
    # Watchlists (flows/watch.py). The default file is optional: without it a run matches no watch; a file named
    # explicitly must exist.
    watches_file: str = Field(
        "", description="Watch file (TOML); default deployments/watches.toml in the working directory, if present."
    )
    watch_warmup_days: int = Field(
        14, ge=1, description="Days of lake coverage before a watch's spikes and firsts can alert."
    )
    watch_baseline_days: int = Field(28, ge=7, description="Trailing days a watch's daily baseline is taken from.")

    def run_parameters(self) -> dict[str, Any]:
        """Return the settings a run records with its row in ``runs``: every knob but those that identify a person
        or unlock something (contact, User-Agent, webhook, object-store keys), since the runs dataset is read by
        anyone who can query the lake."""
        return self.model_dump(exclude=set(PRIVATE_SETTINGS))

    @property
    def contact_is_placeholder(self) -> bool:
        """True when requests would name the placeholder contact (neither a contact nor a User-Agent is set)."""
        return not self.contact.strip() and not self.user_agent.strip()

    @classmethod
    def build(cls, **overrides: Any) -> Settings:
        """Return settings from the environment with the ``overrides`` that are not None applied on top."""
        values: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
        return cls(**values)


def open_lake(settings: Settings) -> Lake:
    """Return the lake of ``settings.data_dir`` with the object-store settings and cache directory applied.

    The one place a :class:`~storage.lake.Lake` is built from settings (runs, maintenance, checks, queries,
    reports, replay), so a remote lake is reached the same way by every command; a setting left empty falls
    back to the standard AWS variables inside the lake.
    """
    from storage.lake import Lake

    return Lake(
        settings.data_dir,
        s3_endpoint=settings.s3_endpoint or None,
        s3_region=settings.s3_region or None,
        s3_access_key=settings.s3_access_key or None,
        s3_secret_key=settings.s3_secret_key.get_secret_value() or None,
        cache_dir=settings.cache_dir or None,
    )
