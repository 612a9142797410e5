"""One object per kind of resource: list, get, create, change, delete, in the API's own terms."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic.alias_generators import to_camel

from versicolor.client import paging
from versicolor.client.models import ApiObject, Experiment, Goal, Segment, Site, Url, Variation
from versicolor.client.transport import Transport

M = TypeVar("M", bound=ApiObject)
Filter = Mapping[str, Any]


def where(field: str, operator: str, *parameters: Any) -> dict[str, Any]:
    """One entry of a list filter: `where("status", "EQUAL", "ACTIVE")`."""
    return {"field": field, "operator": operator, "parameters": list(parameters)}


def _body(model: type[ApiObject], fields: Mapping[str, Any] | None, named: Mapping[str, Any]) -> dict[str, Any]:
    """A request body from a dict in the API's names and keyword arguments in Python's (`base_url=`)."""
    body = dict(fields or {})
    for name, value in named.items():
        known = model.model_fields.get(name)
        body[known.alias if known is not None and known.alias else to_camel(name)] = value
    return body


class Collection(Generic[M]):
    """An Automation collection (`/goals`, `/experiments`...)."""

    path: str
    model: type[M]

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def list(
        self,
        *,
        filter: Sequence[Filter] = (),
        sort: Sequence[Mapping[str, str]] = (),
        per_page: int = paging.MAX_PER_PAGE,
        optional_fields: Sequence[str] = (),
        **params: str | int | None,
    ) -> Iterator[M]:
        """Every object matching `filter` (see `where`), sorted by `sort`, fetched page by page as iterated.

        `optional_fields` adds fields shown only on demand (`["goals"]` on experiments).
        """
        query: dict[str, str | int | None] = dict(params)
        if optional_fields:
            query["optionalFields"] = ",".join(optional_fields)
        if filter:
            query["filter"] = json.dumps(list(filter))
        if sort:
            query["sort"] = json.dumps(list(sort))
        for item in paging.pages(self._transport, self.path, params=query, per_page=per_page):
            yield self.model.model_validate(item)

    def get(self, object_id: int, *, optional_fields: Sequence[str] = ()) -> M:
        """One object by id; `optional_fields` adds fields shown only on demand (`["goals"]` on experiments)."""
        params = {"optionalFields": ",".join(optional_fields)} if optional_fields else None
        answer = self._transport.request("GET", f"{self.path}/{object_id}", params=params)
        return self.model.model_validate(answer.json())

    def create(self, fields: Mapping[str, Any] | None = None, **named: Any) -> M:
        """Create an object from API fields (`{"siteId": 1}`) and/or keyword arguments (`site_id=1`)."""
        answer = self._transport.request("POST", self.path, json=_body(self.model, fields, named))
        return self.model.model_validate(answer.json())

    def update(self, object_id: int, fields: Mapping[str, Any] | None = None, **named: Any) -> M:
        """Change the named fields (PATCH: arrays and objects are replaced whole); sending it twice is harmless."""
        answer = self._transport.request(
            "PATCH", f"{self.path}/{object_id}", json=_body(self.model, fields, named), idempotent=True
        )
        return self.model.model_validate(answer.json())

    def delete(self, object_id: int) -> None:
        """Delete an object."""
        self._transport.request("DELETE", f"{self.path}/{object_id}")


class Sites(Collection[Site]):
    """`/sites`."""

    path = "/sites"
    model = Site

    def by_code(self, code: str) -> Site:
        """The site with this code."""
        return Site.model_validate(self._transport.request("GET", f"/sites/byCode/{code}").json())


class Goals(Collection[Goal]):
    """`/goals`."""

    path = "/goals"
    model = Goal


class Segments(Collection[Segment]):
    """`/segments`."""

    path = "/segments"
    model = Segment


class Variations(Collection[Variation]):
    """`/variations`."""

    path = "/variations"
    model = Variation


class Experiments(Collection[Experiment]):
    """`/experiments`, with their lifecycle."""

    path = "/experiments"
    model = Experiment

    def change_status(
        self, experiment_id: int, action: str, fields: Mapping[str, Any] | None = None, **query: str | None
    ) -> Experiment:
        """Apply `fields` (if any), then the lifecycle action (ACTIVATE, PAUSE...), in one request."""
        answer = self._transport.request(
            "PATCH",
            f"{self.path}/{experiment_id}",
            params={"action": action, **query},
            json=dict(fields) if fields else None,
        )
        return Experiment.model_validate(answer.json())

    def activate(self, experiment_id: int) -> Experiment:
        """DRAFT -> ACTIVE."""
        return self.change_status(experiment_id, "ACTIVATE")

    def pause(self, experiment_id: int) -> Experiment:
        """ACTIVE -> PAUSED."""
        return self.change_status(experiment_id, "PAUSE")

    def resume(self, experiment_id: int) -> Experiment:
        """PAUSED -> ACTIVE."""
        return self.change_status(experiment_id, "RESUME")

    def stop(self, experiment_id: int) -> Experiment:
        """ACTIVE or PAUSED -> STOPPED."""
        return self.change_status(experiment_id, "STOP")

    def deactivate(self, experiment_id: int) -> Experiment:
        """Any status -> DEACTIVATED (final)."""
        return self.change_status(experiment_id, "DEACTIVATE")

    def schedule(self, experiment_id: int, start: datetime, end: datetime | None = None) -> Experiment:
        """DRAFT -> SCHEDULED: ACTIVE at `start`, STOPPED at `end` (aware datetimes)."""
        return self.change_status(
            experiment_id,
            "SCHEDULE",
            dateStart=start.isoformat(),
            dateEnd=end.isoformat() if end is not None else None,
        )


class Urls:
    """`/v3/edit/urls`: the domains where experiences may run."""

    path = "/v3/edit/urls"

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def list(self, *, domain: str | None = None, limit: int = paging.MAX_CURSOR_LIMIT) -> Iterator[Url]:
        """Every Url (newest first), or those on `domain` and its subdomains, following the cursor."""
        for item in paging.cursor(self._transport, self.path, "urls", params={"domain": domain}, limit=limit):
            yield Url.model_validate(item)

    def get(self, url_id: str) -> Url:
        """One Url by id."""
        return Url.model_validate(self._transport.request("GET", f"{self.path}/{url_id}").json()["url"])

    def find(self, host: str) -> Url | None:
        """The Url of exactly this host, if there is one."""
        wanted = host.strip().lower().rstrip(".")
        return next((url for url in self.list(domain=wanted) if url.host == wanted), None)

    def create(self, host: str, *, enabled: str = "on", url_group_id: str | None = None) -> Url:
        """Add a host with its authorisation state."""
        body = {"host": host, "enabled": enabled, "url_group_id": url_group_id}
        return Url.model_validate(self._transport.request("POST", self.path, json=body).json()["url"])

    def update(self, url_id: str, **fields: Any) -> Url:
        """Change the named fields (`enabled`, `url_group_id`, `archived_at`)."""
        answer = self._transport.request("PATCH", f"{self.path}/{url_id}", json=fields, idempotent=True)
        return Url.model_validate(answer.json()["url"])
