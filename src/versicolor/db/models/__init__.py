"""All tables; importing this package registers every table on `Base.metadata`."""

from versicolor.db.models.accounts import Account, ApiCredential, ServerSecret, User
from versicolor.db.models.base import Base
from versicolor.db.models.custom_data import CustomDatum
from versicolor.db.models.domains import Url, UrlGroup
from versicolor.db.models.experiments import DeviationChange, Experiment, ExperimentGoal, Variation
from versicolor.db.models.goals import Goal
from versicolor.db.models.keys import CallbackKey, SigningKeyRow
from versicolor.db.models.oauth import (
    AuthChange,
    AuthJournalHead,
    AuthorizationCode,
    OAuthAuthorization,
    PartnerApp,
    RefreshToken,
)
from versicolor.db.models.personalizations import Personalization, PersonalizationGoal
from versicolor.db.models.results import ResultReport
from versicolor.db.models.segments import Segment
from versicolor.db.models.sessions import SignInSession
from versicolor.db.models.sites import Site
from versicolor.db.models.tracking import TrackingConversion, TrackingExposure, TrackingVisit, TrackingVisitorGoal

__all__ = [
    "Account",
    "ApiCredential",
    "AuthChange",
    "AuthJournalHead",
    "AuthorizationCode",
    "Base",
    "CallbackKey",
    "CustomDatum",
    "DeviationChange",
    "Experiment",
    "ExperimentGoal",
    "Goal",
    "OAuthAuthorization",
    "PartnerApp",
    "Personalization",
    "PersonalizationGoal",
    "RefreshToken",
    "ResultReport",
    "Segment",
    "ServerSecret",
    "SignInSession",
    "SigningKeyRow",
    "Site",
    "TrackingConversion",
    "TrackingExposure",
    "TrackingVisit",
    "TrackingVisitorGoal",
    "Url",
    "UrlGroup",
    "User",
    "Variation",
]
