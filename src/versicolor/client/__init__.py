"""A Python client of the Versicolor API: what the command line and `versicolor sync` are built on.

It imports nothing of the server side (tests/test_architecture.py checks it), so that it could be
distributed on its own. docs/client.md shows it at work.
"""

from versicolor.client.api import Versicolor
from versicolor.client.auth import Credentials
from versicolor.client.errors import (
    ApiError,
    AuthenticationFailed,
    BadRequest,
    Conflict,
    ConnectionFailed,
    FieldError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    VersicolorError,
)
from versicolor.client.models import Experiment, Goal, Segment, Site, Url, Variation
from versicolor.client.resources import where
from versicolor.client.results import Report, ReportFailed, ReportNotReady
from versicolor.client.retries import RetryPolicy
from versicolor.client.transport import Transport

__all__ = [
    "ApiError",
    "AuthenticationFailed",
    "BadRequest",
    "Conflict",
    "ConnectionFailed",
    "Credentials",
    "Experiment",
    "FieldError",
    "Goal",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "Report",
    "ReportFailed",
    "ReportNotReady",
    "RetryPolicy",
    "Segment",
    "ServerError",
    "Site",
    "Transport",
    "Url",
    "Variation",
    "Versicolor",
    "VersicolorError",
    "where",
]
