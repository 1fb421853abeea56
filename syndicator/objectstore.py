"""All object-storage I/O (S3 and S3-compatible services such as MinIO and Ceph), through boto3.

boto3 is the client library: it is AWS's maintained SDK, and what MinIO and Ceph document for their S3 APIs;
it signs requests (SigV4), finds credentials in the standard chain (environment, AWS_PROFILE and
~/.aws/credentials, container and instance roles), retries by the service's own rules and handles the XML
wire format. Nothing else in Syndicator imports it (an import-linter contract), as requests lives only in
http.py. Every client here has explicit connect and read timeouts and a bounded number of attempts, and
every error names the bucket and key and says what to do.

Credentials are never read from Syndicator's config: only the endpoint, region, timeout and retries are.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import logging
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

CREDENTIALS_HINT = (
    "boto3 reads credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the service's environment, "
    "AWS_PROFILE and ~/.aws/credentials, or an instance or container role; never from syndicator.toml"
)
PERMISSIONS_HINT = (
    "the credentials need s3:GetObject, s3:PutObject and s3:DeleteObject on the objects under the prefix and "
    "s3:ListBucket on the bucket (docs/scale-out.md)"
)
_MISSING = {"404", "NoSuchKey", "NotFound"}
_DENIED = {"403", "AccessDenied", "AllAccessDisabled", "AccountProblem"}
_BAD_CREDENTIALS = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
    "RequestTimeTooSkewed",
}
_WRONG_REGION = {"PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"}
_THROTTLED = {
    "SlowDown",
    "503",
    "ServiceUnavailable",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
}


@dataclass(frozen=True)
class S3Options:
    """Where the bucket is and how patient a client is with it (publish.s3_* settings)."""

    bucket: str
    endpoint: str = ""  # "" means AWS S3
    region: str = ""  # "" means boto3's own choice (AWS_REGION, ~/.aws/config), else us-east-1
    timeout: float = 30.0  # seconds to connect, and then between reads
    retries: int = 4  # extra attempts after the first


@dataclass(frozen=True)
class ObjectInfo:
    """What a HEAD, a GET or a listing says about one object."""

    key: str
    etag: str  # as the service sends it, quotes included
    size: int
    modified: float  # Last-Modified, seconds since the epoch
    metadata: Mapping[str, str] = field(default_factory=dict)  # x-amz-meta-*, lower-case names


@dataclass(frozen=True)
class ObjectBody:
    """A GET: the object's bytes and what the service says about it."""

    info: ObjectInfo
    data: bytes


class NotModified:
    """What `get` answers when the object's ETag is still the one the caller sent."""


NOT_MODIFIED = NotModified()


class ObjectStoreError(OSError):
    """An object-storage request failed: names the object (s3://bucket/key) and says what to do."""

    def __init__(self, code: int, message: str, url: str, hint: str = "") -> None:
        super().__init__(code, message, url)
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.strerror}: {self.filename}"
        return f"{text} (hint: {self.hint})" if self.hint else text


class ObjectStore:
    """One bucket through one thread-safe boto3 client, with requests counted per operation."""

    def __init__(self, options: S3Options) -> None:
        # Imported here: boto3 takes a noticeable time to import, and a folder target never needs it.
        import boto3
        from botocore.config import Config as BotoConfig

        self.options = options
        self.bucket = options.bucket
        self.where = options.endpoint or "AWS S3"
        config = BotoConfig(
            connect_timeout=options.timeout,
            read_timeout=options.timeout,
            # "standard" retries timeouts, dropped connections, 5xx and throttling with backoff;
            # total_max_attempts counts the first attempt too (botocore's max_attempts would not).
            retries={"total_max_attempts": options.retries + 1, "mode": "standard"},
            # S3-compatible services (older Ceph, MinIO) reject the CRC checksums newer botocore sends by
            # default; each PUT carries a Content-MD5 instead, which every one of them checks.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            # Path-style addressing for a custom endpoint: MinIO and Ceph serve it without wildcard DNS.
            s3={"addressing_style": "path" if options.endpoint else "auto"},
            user_agent_extra="syndicator",
        )
        # A session per store: boto3's default session is not thread-safe to create clients from.
        session = boto3.session.Session()
        self.client: Any = session.client(
            "s3",
            endpoint_url=options.endpoint or None,
            region_name=options.region or session.region_name or "us-east-1",
            config=config,
        )
        self.requests: Counter[str] = Counter()  # HTTP requests sent (retries included), by operation
        self._lock = threading.Lock()
        self.client.meta.events.register("before-send.s3", self._count)

    def _count(self, event_name: str = "", **_kwargs: Any) -> None:
        with self._lock:
            self.requests[event_name.rpartition(".")[2]] += 1

    def url(self, key: str = "") -> str:
        """s3://bucket/key, for messages."""
        return f"s3://{self.bucket}/{key}"

    def head(self, key: str) -> ObjectInfo | None:
        """The object's size, ETag, Last-Modified and metadata, or None if there is none."""
        try:
            reply = self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if _code(exc) in _MISSING:
                return None
            raise self._error(exc, "reading", key) from exc
        return _info(key, reply)

    def get(self, key: str, if_none_match: str = "") -> ObjectBody | NotModified | None:
        """The object's bytes, None if there is none, NOT_MODIFIED if its ETag is still if_none_match."""
        args = {"IfNoneMatch": if_none_match} if if_none_match else {}
        try:
            reply = self.client.get_object(Bucket=self.bucket, Key=key, **args)
            data = reply["Body"].read()
        except Exception as exc:
            code = _code(exc)
            if code in _MISSING:
                return None
            if code == "304":
                return NOT_MODIFIED
            raise self._error(exc, "reading", key) from exc
        return ObjectBody(_info(key, reply), data)

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str,
        cache_control: str,
        content_encoding: str = "",
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Store data at key with its HTTP headers. S3 replaces an object whole or not at all: readers see the
        old bytes or the new ones, never a mix, and a failed PUT leaves the old object as it was."""
        args: dict[str, Any] = {
            "ContentType": content_type,
            "CacheControl": cache_control,
            "Metadata": dict(metadata or {}),
            # The service checks the body against it: a transfer that went wrong fails instead of storing.
            "ContentMD5": base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode("ascii"),
        }
        if content_encoding:
            args["ContentEncoding"] = content_encoding
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **args)
        except Exception as exc:
            raise self._error(exc, "writing", key) from exc

    def delete(self, key: str) -> None:
        """Remove the object (no error if there is none)."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            raise self._error(exc, "deleting", key) from exc

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Every object whose key starts with prefix, in key order, 1,000 per request."""
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            ):
                for item in page.get("Contents", ()):
                    yield ObjectInfo(
                        item["Key"], item.get("ETag", ""), int(item.get("Size", 0)),
                        item["LastModified"].timestamp(),
                    )  # fmt: skip
        except Exception as exc:
            raise self._error(exc, "listing", prefix) from exc

    def _error(self, exc: Exception, doing: str, key: str) -> ObjectStoreError:
        """An ObjectStoreError naming the object and the remedy; exceptions that are not the client's pass
        through unchanged (a bug is a bug)."""
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectTimeoutError,
            EndpointConnectionError,
            NoCredentialsError,
            PartialCredentialsError,
            ReadTimeoutError,
        )

        url = self.url(key)
        attempts = self.options.retries + 1
        if isinstance(exc, NoCredentialsError | PartialCredentialsError):
            return ObjectStoreError(errno.EACCES, f"no AWS credentials for {doing}", url, CREDENTIALS_HINT)
        if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
            return ObjectStoreError(
                errno.ETIMEDOUT,
                f"{self.where} did not answer within {self.options.timeout:g}s ({attempts} attempt(s)) {doing}",
                url,
                "check that the service is up; raise publish.s3_timeout or publish.s3_retries for a slow link",
            )
        if isinstance(exc, EndpointConnectionError):
            return ObjectStoreError(
                errno.ECONNREFUSED,
                f"cannot connect to {self.where} ({attempts} attempt(s)) {doing}",
                url,
                "check publish.s3_endpoint, the network and that the service is running",
            )
        if isinstance(exc, ClientError):
            code = _code(exc)
            message = str(exc.response.get("Error", {}).get("Message") or code)
            if code == "NoSuchBucket":
                return ObjectStoreError(
                    errno.ENOENT, f"bucket {self.bucket!r} does not exist at {self.where}", url,
                    "create the bucket, or fix publish.target / publish.s3_endpoint",
                )  # fmt: skip
            if code in _BAD_CREDENTIALS:
                return ObjectStoreError(
                    errno.EACCES, f"{self.where} rejected the credentials {doing} ({code}: {message})", url,
                    f"{CREDENTIALS_HINT}; RequestTimeTooSkewed means this machine's clock is off",
                )  # fmt: skip
            if code in _DENIED:
                return ObjectStoreError(errno.EACCES, f"access denied {doing}", url, PERMISSIONS_HINT)
            if code in _WRONG_REGION:
                return ObjectStoreError(
                    errno.EINVAL, f"the bucket is in another region than {self.client.meta.region_name!r}",
                    url, "set publish.s3_region to the bucket's region",
                )  # fmt: skip
            if code in _THROTTLED:
                return ObjectStoreError(
                    errno.EAGAIN, f"{self.where} is throttling ({attempts} attempt(s)) {doing}", url,
                    "publishing resumes at the next cycle; raise publish.s3_retries if it persists",
                )  # fmt: skip
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            if status >= 500:
                return ObjectStoreError(
                    errno.EIO, f"{self.where} failed {attempts} attempt(s) {doing} ({code}: {message})", url,
                    "a fault of the service: the next cycle tries again; see its status or logs if it persists",
                )  # fmt: skip
            return ObjectStoreError(errno.EIO, f"{doing} failed: {code}: {message}", url)
        if isinstance(exc, BotoCoreError):
            return ObjectStoreError(errno.EIO, f"{doing} failed: {exc}", url)
        raise exc


def _code(exc: Exception) -> str:
    """The service's error code of a ClientError ("" for anything else)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    return str(response.get("Error", {}).get("Code", ""))


def _info(key: str, reply: Mapping[str, Any]) -> ObjectInfo:
    modified = reply.get("LastModified")
    return ObjectInfo(
        key=key,
        etag=str(reply.get("ETag", "")),
        size=int(reply.get("ContentLength", 0)),
        modified=modified.timestamp() if modified is not None else 0.0,
        metadata={k.lower(): v for k, v in (reply.get("Metadata") or {}).items()},
    )
