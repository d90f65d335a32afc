"""The HTTP client of the stride API (docs/API.md): JSON in and out, the bearer key,
problem+json errors as :class:`~stride.StrideError`, bounded retries.

Standard library only (``urllib``).
"""
from __future__ import annotations

import email.utils
import json
import logging
import os
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timezone
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from ._version import __version__
from .errors import StrideConnectionError, StrideError, StrideTimeoutError

__all__ = ["Connection", "DEFAULT_URL", "DEFAULT_API_KEY"]

logger = logging.getLogger("stride")

#: Where ``npm start`` serves the API locally.
DEFAULT_URL = "http://127.0.0.1:8787"
#: The development key of a local ``npm start`` (``STRIDE_DEV_KEY`` in ``.dev.vars``).
DEFAULT_API_KEY = "stride-dev-key"

_NO_BODY = object()
#: Statuses after which the service did not act on the call: retried for every call.
_RETRY_ALWAYS = (429, 503)
#: Statuses (from proxies) after which the call may or may not have been acted on: retried for idempotent calls only.
_RETRY_IDEMPOTENT = (502, 504)


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date; ``None`` when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        ref = now if now is not None else time.time()
        seconds = when.timestamp() - ref
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


class Connection:
    """A connection to a stride service: requests with retries, errors as :class:`StrideError`.
    The bottom of the package (it imports no other module of it); :class:`stride.Client` adds
    the objects (studies, range tests) on top.

    Args:
        url: the service's address; default ``$STRIDE_URL``, else ``http://127.0.0.1:8787``
            (where ``npm start`` serves).
        api_key: sent as ``Authorization: Bearer <key>``; default ``$STRIDE_API_KEY``, else the
            local development key ``stride-dev-key``.
        timeout: seconds to wait for one answer (default 30; range tests and suggestions get
            more, see their methods).
        max_retries: how many times a call is tried again after 429 or 503 (the service did not
            act on it), and, for calls that are safe to repeat (GET, report, tell, range tests),
            after 502/504 or a failed connection. Default 4.
        max_retry_wait: the longest single wait, in seconds (default 60). A ``Retry-After`` longer
            than this raises at once (``StrideError.retry_after`` says how long the service asked
            for) instead of sleeping; waits without ``Retry-After`` back off exponentially from
            0.25 s up to 10 s.

    A client is safe to share between threads (``study.optimize(n_jobs=2)`` does).
    """

    def __init__(
        self,
        url: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 4,
        max_retry_wait: float = 60.0,
    ) -> None:
        self.url = (url or os.environ.get("STRIDE_URL") or DEFAULT_URL).rstrip("/")
        self.api_key = api_key or os.environ.get("STRIDE_API_KEY") or DEFAULT_API_KEY
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.max_retry_wait = float(max_retry_wait)
        # Replaced in tests to observe waits; time.sleep otherwise.
        self._sleep: Callable[[float], None] = time.sleep

    def __repr__(self) -> str:
        return f"stride.Client(url={self.url!r})"

    # --- transport -----------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = _NO_BODY,
        *,
        query: Optional[Mapping[str, Any]] = None,
        timeout: Optional[float] = None,
        idempotent: Optional[bool] = None,
    ) -> Any:
        """Call ``method path`` (``"/v1/..."``) with a JSON ``body``; the parsed JSON answer (``None`` when empty).

        Raises :class:`StrideError` for 4xx/5xx answers (after the retries),
        :class:`StrideConnectionError` / :class:`StrideTimeoutError` when no answer came.
        ``idempotent`` (default: True for GET) allows retrying after a lost connection or 502/504.
        """
        return self._call(method, path, body, query=query, timeout=timeout, idempotent=idempotent)[1]

    def _call(
        self,
        method: str,
        path: str,
        body: Any = _NO_BODY,
        *,
        query: Optional[Mapping[str, Any]] = None,
        timeout: Optional[float] = None,
        idempotent: Optional[bool] = None,
    ) -> Tuple[int, Any, Dict[str, str]]:
        method = method.upper()
        if idempotent is None:
            idempotent = method in ("GET", "HEAD")
        url = self.url + path
        if query:
            q = {k: v for k, v in query.items() if v is not None}
            if q:
                url += "?" + urllib.parse.urlencode(q)
        data: Optional[bytes] = None
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/json, application/problem+json",
            "User-Agent": f"stride-python/{__version__}",
        }
        if body is not _NO_BODY:
            data = json.dumps(body, allow_nan=False, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
        limit = self.timeout if timeout is None else float(timeout)

        attempt = 0
        while True:
            attempt += 1
            can_retry = attempt <= self.max_retries
            req = urllib.request.Request(url, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(req, timeout=limit) as res:
                    status, text, resp_headers = (
                        res.status,
                        res.read().decode("utf-8", "replace"),
                        dict(res.headers.items()),
                    )
            except urllib.error.HTTPError as e:
                status = e.code
                try:
                    text = e.read().decode("utf-8", "replace")
                except Exception:  # the body of an error answer may be cut off
                    text = ""
                resp_headers = dict(e.headers.items()) if e.headers else {}
                e.close()
            except (urllib.error.URLError, OSError, ConnectionError) as e:
                reason = e.reason if isinstance(e, urllib.error.URLError) else e
                timed_out = isinstance(reason, (socket.timeout, TimeoutError)) or "timed out" in str(reason)
                if idempotent and can_retry:
                    wait = self._backoff(attempt)
                    logger.info("stride: %s %s: %s; retrying in %.2fs", method, path, reason, wait)
                    self._sleep(wait)
                    continue
                cls = StrideTimeoutError if timed_out else StrideConnectionError
                what = (
                    f"no answer within {limit:g}s"
                    if timed_out
                    else f"cannot reach stride at {self.url} ({reason})"
                )
                raise cls(f"{what} ({method} {path})", method=method, url=url) from e

            lower = {k.lower(): v for k, v in resp_headers.items()}
            if status in _RETRY_ALWAYS or (idempotent and status in _RETRY_IDEMPOTENT):
                retry_after = parse_retry_after(lower.get("retry-after"))
                if can_retry and (retry_after is None or retry_after <= self.max_retry_wait):
                    wait = retry_after if retry_after is not None else self._backoff(attempt)
                    logger.info("stride: %s %s answered %d; retrying in %.2fs", method, path, status, wait)
                    self._sleep(wait)
                    continue
                raise self._error(status, text, method, url, lower, retry_after)
            if status >= 400:
                raise self._error(
                    status, text, method, url, lower, parse_retry_after(lower.get("retry-after"))
                )
            if not text:
                return status, None, lower
            try:
                return status, json.loads(text), lower
            except ValueError as e:
                raise StrideError(
                    f"HTTP {status}: the answer is not JSON: {text[:200]!r} ({method} {path})",
                    status=status,
                    method=method,
                    url=url,
                ) from e

    @staticmethod
    def _error(
        status: int,
        text: str,
        method: str,
        url: str,
        headers: Mapping[str, str],
        retry_after: Optional[float],
    ) -> StrideError:
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        return StrideError.from_response(
            status,
            text,
            method=method,
            url=url,
            request_id=headers.get("x-request-id"),
            retry_after=retry_after,
            parsed=parsed,
        )

    @staticmethod
    def _backoff(attempt: int) -> float:
        return float(min(10.0, 0.25 * 2.0 ** (attempt - 1)) * (0.75 + random.random() * 0.5))

    def suggest_lr(self, body: Mapping[str, Any], *, timeout: float = 600.0) -> Dict[str, Any]:
        """``POST /v1/lr/suggest``: with ``{"probe": ..., "training": {"epochs": N}}`` a learning
        rate validated at your run's length (tens of seconds), or with ``{"context": {...}}``
        documented priors at once. With ``"executor": {"kind": "client"}`` (or ``"runner"``) and a
        ``"range_test_id"`` or ``"curve"``, the study of the candidates to train (the 202's JSON;
        :func:`stride.lr_suggest` trains them and fetches the answer). Answers the JSON as the
        service sends it.
        """
        result: Dict[str, Any] = self.request("POST", "/v1/lr/suggest", dict(body), timeout=timeout)
        return result


def _quote(segment: str) -> str:
    return urllib.parse.quote(str(segment), safe="")
