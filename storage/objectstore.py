"""How the lake reaches a data directory that is not a local path, and the errors every part of the lake raises.

Any URI pyarrow or fsspec understands opens as a filesystem (:func:`_filesystem_from_uri`). An S3-compatible store
is reached by two clients: pyarrow's ``S3FileSystem`` reads and writes the Parquet files, and boto3 (through
:class:`_ObjectStore`) makes the few writes that must depend on what is there (``If-None-Match: *``,
``If-Match: <etag>``): the write lease of :mod:`storage.lease` and the commit markers. Both are built from one
:class:`S3Options`, so they agree on where the store is.

The lake's errors are declared here, at the bottom of the chain ``storage.lake`` → ``storage.lease`` → this module,
so that every layer raises the same classes; callers import them from :mod:`storage.lake`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.fs as pafs


class LakeError(RuntimeError):
    """A problem with the data directory that the user must fix (bad URI, lock held, unreadable files)."""


class LakeLockedError(LakeError):
    """Another mediawatch run holds the data directory's write lock."""


class LakeLeaseLostError(LakeError):
    """This writer's lease on an S3 lake passed to another writer, or was not renewed in time: the write under way
    was not committed. Not a :class:`LakeLockedError`: the run did start, and failed."""


def _filesystem_from_uri(uri: str) -> tuple[pafs.FileSystem, str]:
    """Return the filesystem and path of ``uri``: pyarrow's own (s3, gcs, hdfs, file), else any fsspec scheme."""
    try:
        fs, path = pafs.FileSystem.from_uri(uri)
        return fs, str(path)
    except (pa.ArrowInvalid, OSError) as arrow_error:
        try:
            import fsspec

            protocol, _, rest = uri.partition("://")
            handler = pafs.FSSpecHandler(fsspec.filesystem(protocol))
        except (ImportError, ValueError) as exc:
            raise LakeError(f"cannot open data directory {uri!r}: {arrow_error}; {exc}") from exc
        return pafs.PyFileSystem(handler), "/" + rest.lstrip("/")


@dataclass(frozen=True, slots=True)
class S3Options:
    """How to reach an S3-compatible store. ``None`` leaves a value to the standard AWS lookup (see
    :func:`s3_options_from_env`; credentials also from ``~/.aws`` or an instance role). Credentials given here
    travel with the lake to the Dask workers that write for it; those left to the environment do not."""

    endpoint: str | None = None
    region: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    session_token: str | None = None

    def merged(self, fallback: S3Options) -> S3Options:
        """Return these options with every value left ``None`` taken from ``fallback``."""
        return S3Options(
            endpoint=self.endpoint or fallback.endpoint,
            region=self.region or fallback.region,
            access_key=self.access_key or fallback.access_key,
            secret_key=self.secret_key or fallback.secret_key,
            session_token=self.session_token or fallback.session_token,
        )


def s3_options_from_env(environ: Mapping[str, str]) -> S3Options:
    """Return the endpoint and region the standard AWS variables give: ``AWS_ENDPOINT_URL_S3`` (else
    ``AWS_ENDPOINT_URL``) and ``AWS_REGION`` (else ``AWS_DEFAULT_REGION``).

    Read here and passed to both clients because pyarrow's ``S3FileSystem`` ignores ``AWS_ENDPOINT_URL``
    (pyarrow 26 honours it only through ``FileSystem.from_uri``), and the lake's two clients must agree on where
    the store is. Credentials are left to the SDKs, which both read ``AWS_ACCESS_KEY_ID``,
    ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN``.
    """
    return S3Options(
        endpoint=environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL") or None,
        region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or None,
    )


def _s3_filesystem(options: S3Options) -> pafs.S3FileSystem:
    """Return pyarrow's S3 filesystem for ``options`` (an endpoint may be ``host:port`` or a URL)."""
    kwargs: dict[str, Any] = {}
    if options.endpoint:
        parts = urlsplit(options.endpoint if "://" in options.endpoint else f"https://{options.endpoint}")
        kwargs["endpoint_override"] = parts.netloc
        kwargs["scheme"] = parts.scheme
    if options.region:
        kwargs["region"] = options.region
    if options.access_key:
        kwargs["access_key"] = options.access_key
        kwargs["secret_key"] = options.secret_key
        kwargs["session_token"] = options.session_token
    return pafs.S3FileSystem(**kwargs)


class _ObjectStore:
    """The conditional object writes the lake needs on S3, through boto3: pyarrow's filesystem writes objects but
    cannot make a write depend on what is there (``If-None-Match: *``, ``If-Match: <etag>``).

    Picklable: a copy (a Dask worker's) opens its own client on first use.
    """

    def __init__(self, bucket: str, options: S3Options) -> None:
        self.bucket = bucket
        self.options = options
        self._client: Any = None
        self._guard = threading.Lock()

    def __getstate__(self) -> dict[str, object]:
        return {"bucket": self.bucket, "options": self.options}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["bucket"], state["options"])  # type: ignore[misc]

    def client(self) -> Any:
        """Return this process's boto3 client (created once; boto3 clients are thread-safe)."""
        with self._guard:
            if self._client is None:
                import boto3
                from botocore.config import Config

                opts = self.options
                endpoint = opts.endpoint
                self._client = boto3.session.Session().client(
                    "s3",
                    endpoint_url=endpoint if not endpoint or "://" in endpoint else f"https://{endpoint}",
                    region_name=opts.region,
                    aws_access_key_id=opts.access_key,
                    aws_secret_access_key=opts.secret_key,
                    aws_session_token=opts.session_token,
                    # Short timeouts: a lease renewal or a marker that hangs is worse than one that fails.
                    config=Config(connect_timeout=5, read_timeout=20, retries={"mode": "standard", "max_attempts": 3}),
                )
            return self._client

    def get(self, key: str) -> tuple[bytes, str] | None:
        """Return the object's content and etag, or None when there is none."""
        try:
            answer = self.client().get_object(Bucket=self.bucket, Key=key)
            data: bytes = answer["Body"].read()
        except _boto_errors() as exc:
            if _s3_status(exc) == 404:
                return None
            raise LakeError(f"cannot read s3://{self.bucket}/{key}: {exc}") from exc
        return data, str(answer["ETag"])

    def put(self, key: str, data: bytes, *, if_none_match: bool = False, if_match: str | None = None) -> str | None:
        """Write the object if its precondition holds (absent, or at etag ``if_match``); return its new etag, or
        None when the precondition failed (someone else's object is there, or it changed or went)."""
        conditions: dict[str, str] = {}
        if if_none_match:
            conditions["IfNoneMatch"] = "*"
        if if_match is not None:
            conditions["IfMatch"] = if_match
        try:
            answer = self.client().put_object(Bucket=self.bucket, Key=key, Body=data, **conditions)
        except _boto_errors() as exc:
            # 412: the precondition failed; 409: a concurrent conditional write to the key won; 404: If-Match on a
            # key that is gone.
            if conditions and _s3_status(exc) in (404, 409, 412):
                return None
            raise LakeError(f"cannot write s3://{self.bucket}/{key}: {exc}") from exc
        return str(answer["ETag"])

    def delete(self, key: str, if_match: str) -> bool:
        """Delete the object if it is still at etag ``if_match``; return whether it was deleted."""
        try:
            self.client().delete_object(Bucket=self.bucket, Key=key, IfMatch=if_match)
        except _boto_errors() as exc:
            if _s3_status(exc) in (404, 409, 412):
                return False
            raise LakeError(f"cannot delete s3://{self.bucket}/{key}: {exc}") from exc
        return True


def _boto_errors() -> tuple[type[Exception], ...]:
    """Return the exceptions a boto3 request raises for an answer or a failed connection (imported when needed:
    local lakes never load boto3)."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)


def _s3_status(exc: Exception) -> int | None:
    """Return the HTTP status of a botocore client error, None for anything else."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if isinstance(status, int) else None
