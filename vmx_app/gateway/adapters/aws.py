"""AWS plumbing for the Bedrock adapters: credentials (static, AssumeRole, default chain), SigV4
signing with botocore, and decoding of the `application/vnd.amazon.eventstream` body."""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections.abc import Mapping
from typing import Any

import orjson
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from botocore.eventstream import EventStreamBuffer, ParserError

from vmx_app.gateway.adapters.base import (
    ProviderError,
    ProviderNetworkError,
)
from vmx_app.gateway.error_types import status_for_error_type

_REFRESH_BEFORE_S = 300.0  # start a background refresh this long before expiry
_MUST_REFRESH_S = 30.0  # below this, callers wait for fresh credentials
_SESSION_NAME_BAD = re.compile(r"[^\w+=,.@-]")


class AwsCredentials:
    """Credentials for one connection. `current()` is the sync hot-path read; `refresh()` is slow.

    Keys only -> used as they are. `iamRoleArn` -> STS AssumeRole (with the keys, if any, as the
    caller; else the process's default chain), ExternalId = config `externalId` or "ws:env", the
    temporary credentials cached until shortly before expiry. Neither -> the default chain.
    """

    def __init__(self, config: Mapping[str, Any], *, session_name: str, external_id: str | None) -> None:
        self._region: str = config["region"]
        self._role_arn: str | None = config.get("iamRoleArn") or None
        self._external_id = config.get("externalId") or external_id
        self._sts_endpoint: str | None = config.get("stsEndpointUrl") or None
        self._session_name = _SESSION_NAME_BAD.sub("-", session_name)[:64]
        self._keys: ReadOnlyCredentials | None = None
        if config.get("accessKeyId") and config.get("secretAccessKey"):
            self._keys = ReadOnlyCredentials(
                config["accessKeyId"], config["secretAccessKey"], config.get("sessionToken") or None
            )
        self._cached: ReadOnlyCredentials | None = self._keys if self._role_arn is None else None
        self._expires_at = float("inf") if self._cached is not None else 0.0
        self._lock = asyncio.Lock()
        self._background: asyncio.Task[None] | None = None
        self._sts: Any = None

    def current(self) -> ReadOnlyCredentials | None:
        """Credentials good for this call, or None when the caller must `await refresh()`."""
        creds = self._cached
        if creds is None:
            return None
        left = self._expires_at - time.time()
        if left > _REFRESH_BEFORE_S:
            return creds
        if left <= _MUST_REFRESH_S:
            return None
        if self._background is None:  # refresh off the hot path while these are still valid
            self._background = asyncio.get_running_loop().create_task(self._refresh_in_background())
        return creds

    async def _refresh_in_background(self) -> None:
        try:
            await self.refresh(force=True)
        except Exception:  # the next call that needs credentials retries and reports the error
            pass
        finally:
            self._background = None

    async def refresh(self, force: bool = False) -> ReadOnlyCredentials:
        async with self._lock:
            if not force:
                creds = self.current()
                if creds is not None:
                    return creds
            creds, expires_at = await asyncio.to_thread(self._fetch)
            self._cached, self._expires_at = creds, expires_at
            return creds

    def _fetch(self) -> tuple[ReadOnlyCredentials, float]:
        """Blocking: runs in a worker thread."""
        import botocore.session
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            if self._role_arn is None:
                found = botocore.session.Session().get_credentials()
                if found is None:
                    raise ProviderError(401, "no AWS credentials configured", error_type="credentials_error")
                expiry = getattr(found, "_expiry_time", None)
                frozen = found.get_frozen_credentials()
                return frozen, expiry.timestamp() if expiry is not None else time.time() + 3600.0
            if self._sts is None:
                kwargs: dict[str, Any] = {"region_name": self._region}
                if self._sts_endpoint:
                    kwargs["endpoint_url"] = self._sts_endpoint
                if self._keys is not None:
                    kwargs.update(
                        aws_access_key_id=self._keys.access_key,
                        aws_secret_access_key=self._keys.secret_key,
                        aws_session_token=self._keys.token,
                    )
                self._sts = botocore.session.Session().create_client("sts", **kwargs)
            params: dict[str, Any] = {"RoleArn": self._role_arn, "RoleSessionName": self._session_name}
            if self._external_id:
                params["ExternalId"] = self._external_id
            out = self._sts.assume_role(**params)["Credentials"]
            creds = ReadOnlyCredentials(out["AccessKeyId"], out["SecretAccessKey"], out["SessionToken"])
            return creds, out["Expiration"].timestamp()
        except ClientError as exc:
            err = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 403
            raise ProviderError(
                status, f"AWS credentials: {err.get('Message') or exc}", error_type="credentials_error"
            ) from exc
        except BotoCoreError as exc:
            raise ProviderNetworkError(f"AWS credentials: {exc}") from exc

    async def get(self) -> ReadOnlyCredentials:
        return self.current() or await self.refresh()


def sign(
    creds: ReadOnlyCredentials, region: str, method: str, url: str, body: bytes, headers: dict[str, str]
) -> dict[str, str]:
    """SigV4 headers (service `bedrock`) for a request to `url` (already percent-encoded)."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(creds, "bedrock", region).add_auth(request)
    return dict(request.headers.items())


def _exception(headers: Mapping[str, Any], payload: bytes) -> ProviderError:
    """A mid-stream `exception`/`error` message as ProviderError with the status its type stands for."""
    etype = headers.get(":exception-type") or headers.get(":error-code") or "internalServerException"
    try:
        data = orjson.loads(payload) if payload else {}
    except orjson.JSONDecodeError:
        data = {}
    data = data if isinstance(data, dict) else {}
    message = data.get("message") or data.get("Message") or headers.get(":error-message") or etype
    status = data.get("originalStatusCode")
    if not isinstance(status, int) or not 400 <= status < 600:
        status = status_for_error_type(etype)
    return ProviderError(status, str(message), body=payload, error_type=str(etype))


class EventStreamDecoder:
    """Bedrock event stream -> events. `invoke=False` (ConverseStream) yields `{eventType: payload}`;
    `invoke=True` (InvokeModelWithResponseStream) decodes each `chunk` and yields `(type, data)`."""

    __slots__ = ("_buf", "_invoke", "finished", "error")

    def __init__(self, invoke: bool) -> None:
        self._buf = EventStreamBuffer()
        self._invoke = invoke
        self.finished = False
        self.error: ProviderError | None = None

    @property
    def done(self) -> bool:
        return self.error is not None

    def feed(self, chunk: bytes) -> list[Any]:
        self._buf.add_data(chunk)
        out: list[Any] = []
        try:
            for message in self._buf:
                headers = message.headers
                if headers.get(":message-type", "event") != "event":
                    self.error = _exception(headers, message.payload)
                    return out
                payload = orjson.loads(message.payload) if message.payload else {}
                if isinstance(payload, dict):
                    payload.pop("p", None)  # random padding against length side channels
                event_type = headers.get(":event-type")
                if not self._invoke:
                    if event_type == "messageStop":
                        self.finished = True
                    out.append({event_type: payload})
                elif event_type == "chunk":
                    data = orjson.loads(base64.b64decode(payload["bytes"]))
                    kind = data.get("type") if isinstance(data, dict) else None
                    if kind == "message_stop":
                        self.finished = True
                    elif kind == "error":
                        self.error = _exception({":exception-type": data.get("error", {}).get("type")},
                                                orjson.dumps(data.get("error", {})))
                        return out
                    out.append((kind, data))
        except ParserError as exc:
            raise ProviderNetworkError(f"corrupt AWS event stream: {exc}") from exc
        except (orjson.JSONDecodeError, KeyError, ValueError, TypeError) as exc:
            raise ProviderError(502, f"provider sent an invalid stream event: {exc}") from exc
        return out
