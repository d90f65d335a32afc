"""Errors raised by the stride client.

Every error answer of the service is ``application/problem+json`` (RFC 9457):
``{"type", "title", "status", "detail", "errors": [{"path", "message"}], ...}``.
:class:`StrideError` carries all of it, so a caller can branch on ``status``
and show ``detail`` or the path of each problem.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

__all__ = ["Issue", "StrideError", "StrideConnectionError", "StrideTimeoutError", "TrialPruned"]


@dataclass(frozen=True)
class Issue:
    """One problem of a request: the JSON path of the field (``"space.lr.low"``) and what is wrong."""

    path: str
    message: str


class StrideError(Exception):
    """The service answered with an error (4xx/5xx), or could not be reached (see the subclasses).

    Attributes:
        status: the HTTP status (422, 404, 409, 429, ...); ``None`` when no answer came.
        title: the problem's title (``"Unprocessable Content"``).
        detail: what went wrong, as the service says it.
        type: the problem type URI (``"https://stride.dev/problems/invalid-request"``).
        errors: the problems of the request, each with its ``path`` and ``message``.
        problem: the whole problem+json object (empty when the answer was not JSON).
        request_id: the service's ``X-Request-Id`` of the call, to quote in a bug report.
        retry_after: seconds the service asked to wait (429/503), when it said.
        method, url: the call that failed.
    """

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        title: str = "",
        detail: str = "",
        type: str = "",
        errors: Optional[List[Issue]] = None,
        problem: Optional[Dict[str, Any]] = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
        method: str = "",
        url: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.detail = detail or message
        self.type = type
        self.errors: List[Issue] = list(errors or [])
        self.problem: Dict[str, Any] = dict(problem or {})
        self.request_id = request_id
        self.retry_after = retry_after
        self.method = method
        self.url = url

    @property
    def paths(self) -> List[str]:
        """The path of each problem of the request (``["space.lr.low"]``)."""
        return [e.path for e in self.errors]

    @classmethod
    def from_response(
        cls,
        status: int,
        text: str,
        *,
        method: str,
        url: str,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
        parsed: Any = None,
    ) -> "StrideError":
        problem: Dict[str, Any] = parsed if isinstance(parsed, dict) else {}
        title = str(problem.get("title") or "")
        detail = problem.get("detail")
        if not isinstance(detail, str) or not detail:
            detail = text.strip()[:300] or "(empty answer)"
        issues: List[Issue] = []
        raw_errors = problem.get("errors")
        if isinstance(raw_errors, list):
            for e in raw_errors:
                if isinstance(e, Mapping):
                    issues.append(Issue(path=str(e.get("path", "")), message=str(e.get("message", ""))))
        rid = request_id or (
            problem.get("request_id") if isinstance(problem.get("request_id"), str) else None
        )
        path = url.split("://", 1)[-1]
        path = path[path.find("/") :] if "/" in path else path
        message = f"HTTP {status}{' ' + title if title else ''}: {detail} ({method} {path})"
        return cls(
            message,
            status=status,
            title=title,
            detail=detail,
            type=str(problem.get("type") or ""),
            errors=issues,
            problem=problem,
            request_id=rid,
            retry_after=retry_after,
            method=method,
            url=url,
        )


class StrideConnectionError(StrideError):
    """The service could not be reached (refused, reset, DNS, TLS); ``status`` is ``None``."""


class StrideTimeoutError(StrideConnectionError):
    """No answer within the client's timeout; ``status`` is ``None``."""


class TrialPruned(Exception):
    """Raise it from an objective (``study.optimize``) to end the trial as pruned.

    The usual place is right after ``trial.report(step, value)`` answered True::

        if trial.report(epoch, val_loss):
            raise stride.TrialPruned()
    """
