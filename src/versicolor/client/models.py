"""Typed views of what the server returns.

Each model names the fields this client knows and keeps every other field the server sends (`model_extra`),
so that an object read and written back loses nothing a newer server added. `raw()` is the object in the
API's own field names, ready to send back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class ApiObject(BaseModel):
    """An object of the Automation API (camelCase on the wire)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow", frozen=True)

    def raw(self) -> dict[str, Any]:
        """The object in the API's field names, unknown fields included."""
        return self.model_dump(mode="json", by_alias=True)


class Site(ApiObject):
    """A site (project): the unit that goals, segments and experiments belong to."""

    id: int
    code: str
    name: str
    url: str | None = None


class Goal(ApiObject):
    """What counts as a conversion on a site."""

    id: int
    name: str
    site_id: int
    type: str
    key: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    has_multiple_conversions: bool = False
    status: str = "ACTIVE"
    description: str | None = None
    tags: list[str] = Field(default_factory=list)


class Segment(ApiObject):
    """A set of visitors of a site, described by a tree of conditions."""

    id: int
    name: str
    site_id: int
    key: str | None = None
    segment_type: str = "STANDARD"
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    conditions_data: dict[str, Any] = Field(default_factory=dict)


class Experiment(ApiObject):
    """An experiment; `goals` is None unless it was asked for (`with_goals=True`)."""

    id: int
    name: str
    site_id: int
    status: str
    key: str | None = None
    base_url: str = Field(alias="baseURL")
    type: str = "CLASSIC"
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    variations: list[int] = Field(default_factory=list)
    deviations: dict[str, float] = Field(default_factory=dict)
    goals: list[int] | None = None
    main_goal_id: int | None = None
    targeting_segment_id: int | None = None
    common_javascript_code: str | None = Field(default=None, alias="commonJavaScriptCode")
    common_css_code: str | None = None
    date_started: datetime | None = None
    date_ended: datetime | None = None


class Variation(ApiObject):
    """One alternative version of a page: code, or a redirection."""

    id: int
    name: str
    site_id: int
    experiment_id: int | None = None
    key: str | None = None
    js_code: str | None = None
    css_code: str | None = None
    color: int | None = None
    redirection: dict[str, Any] | None = None


class V3Object(BaseModel):
    """An object of the Edit API v3 (snake_case on the wire)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    def raw(self) -> dict[str, Any]:
        """The object in the API's field names, unknown fields included."""
        return self.model_dump(mode="json")


class Url(V3Object):
    """A domain: whether pages on `host` may run experiences (`enabled`: on, off or subdomain)."""

    id: str
    host: str
    domain: str
    enabled: str
    url_group_id: str | None = None
    archived_at: datetime | None = None
    created_at: datetime | None = None
