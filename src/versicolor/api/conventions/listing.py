"""The list query language over HTTP: `GET /<resource>` parameters, `POST /<resource>/search`, and headers.

The query model and its SQL live in core/querying.py; this module only reads requests and writes headers.
A router adopts it like this:

    from versicolor.api.conventions import listing
    from versicolor.core.querying import Choice, Fields

    GOAL_FIELDS = Fields({"id": Goal.id, "name": Goal.name, "status": Choice(Goal.status, ["ACTIVE", "INACTIVE"])},
                         unsearchable=("params", "tags"))
    GoalQuery = Annotated[ListQuery, Depends(listing.query_params(GOAL_FIELDS))]   # page, perPage, filter, sort
    GoalSearch = Annotated[ListQuery, Depends(listing.search_body(GOAL_FIELDS))]   # the same, from a JSON body

    @router.get("")
    async def list_goals(query: GoalQuery, request: Request, response: Response, session: DbSession,
                         caller: Caller) -> list[GoalOut]:
        page = await goals.search(session=session, principal=caller, query=query)  # querying.fetch(...) inside
        listing.set_headers(request, response, page)                              # X-Total-Count, Link
        return [GoalOut.model_validate(goal) for goal in page.items]

    @router.post("/search", openapi_extra=needs(Permission.READ))
    async def search_goals(query: GoalSearch, ...) -> list[GoalOut]: ...   # same body as list_goals

Answers are bare JSON arrays (docs/conventions.md). Every malformed input is a core.errors.Invalid, so it comes out
as a 400 in the caller's dialect with a message naming the parameter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Body, Query, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import WithJsonSchema

from versicolor.api import public_url
from versicolor.core import querying
from versicolor.core.querying import Fields, ListQuery, Page

_FILTER_HELP = (
    "Percent-encoded JSON array of {field, operator, parameters}; all must hold. Operators: "
    + ", ".join(o.value for o in querying.Operator)
    + f". Example: {querying.FILTER_EXAMPLE}"
)
_SORT_HELP = (
    "Percent-encoded JSON array of {field, direction: ASC|DESC}; ties broken by id ASC. "
    f"Example: {querying.SORT_EXAMPLE}"
)

_SEARCH_EXAMPLE = {
    "filter": [{"field": "name", "operator": "CONTAINS", "parameters": ["shop"]}],
    "sort": [{"field": "dateCreated", "direction": "DESC"}],
    "page": 1,
    "perPage": 20,
}


# The dependencies this module makes: a route that has one answers a page, with the headers `set_headers` writes.
_PAGE_QUERIES: set[Callable[..., Any]] = set()


def answers_pages(route: APIRoute) -> bool:
    """Whether `route` answers one page of a list (`X-Total-Count`, `Link`), as its list query shows."""
    return _has_page_query(route.dependant)


def _has_page_query(dependant: Dependant) -> bool:
    return any(sub.call in _PAGE_QUERIES or _has_page_query(sub) for sub in dependant.dependencies)


# The schemas of `page` and `perPage` as clients should send them. The parameters are read as text, so that a
# bad value gets the message of core/querying.py rather than a generic one.
_PAGE_SCHEMA = WithJsonSchema({"type": "integer", "minimum": 1, "maximum": querying.MAX_PAGE, "default": 1})
_PER_PAGE_SCHEMA = WithJsonSchema(
    {
        "type": "integer",
        "oneOf": [{"const": -1}, {"minimum": 1, "maximum": querying.MAX_PER_PAGE}],
        "default": querying.DEFAULT_PER_PAGE,
    }
)


def query_params(fields: Fields) -> Callable[..., ListQuery]:
    """A dependency that reads `page`, `perPage`, `filter`, `sort` and `optionalFields` from the query string."""

    def list_query(
        page: Annotated[str | None, _PAGE_SCHEMA, Query(description="1-based page number (default 1)")] = None,
        per_page: Annotated[
            str | None,
            _PER_PAGE_SCHEMA,
            Query(alias="perPage", description="items per page: 1-200, default 20, -1 for 200"),
        ] = None,
        filter_: Annotated[str | None, Query(alias="filter", description=_FILTER_HELP)] = None,
        sort: Annotated[str | None, Query(description=_SORT_HELP)] = None,
        optional_fields: Annotated[
            str | None, Query(alias="optionalFields", description="comma-separated extra fields")
        ] = None,
    ) -> ListQuery:
        return querying.parse(
            fields, page=page, per_page=per_page, filter=filter_, sort=sort, optional_fields=optional_fields
        )

    _PAGE_QUERIES.add(list_query)
    return list_query


def search_body(fields: Fields) -> Callable[..., Awaitable[ListQuery]]:
    """A dependency that reads the same query from a `POST /<resource>/search` JSON body (all keys optional)."""

    async def search_query(
        body: Annotated[
            Any,
            Body(
                description='{"filter": [...] or {...}, "sort": [...], "page": 1, "perPage": 20}, all optional',
                examples=[_SEARCH_EXAMPLE],
            ),
        ] = None,
    ) -> ListQuery:
        return querying.parse_body(fields, body)

    _PAGE_QUERIES.add(search_query)
    return search_query


def page_url(request: Request, query: ListQuery) -> str:
    """The `GET /<resource>` URL for `query` (under VERSICOLOR_PUBLIC_URL, or relative: never from the `Host`
    header, api/public_url.py); a search's pages are reachable by GET too."""
    path = request.url.path
    if request.method == "POST" and path.endswith("/search"):
        path = path.removesuffix("/search")
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in _LIST_PARAMS]
    return public_url.absolute(public_url.base(request), path, urlencode([*kept, *query.as_params().items()]))


_LIST_PARAMS = frozenset({"page", "perPage", "filter", "sort", "optionalFields"})


def set_headers(request: Request, response: Response, page: Page[Any]) -> None:
    """`X-Total-Count`, and a `Link` header with the first, previous, next and last pages."""
    query = page.query
    response.headers["X-Total-Count"] = str(page.total)
    links = [(1, "first")]
    if query.page > 1:
        links.append((min(query.page - 1, page.last_page), "prev"))
    if query.page < page.last_page:
        links.append((query.page + 1, "next"))
    links.append((page.last_page, "last"))
    response.headers["Link"] = ", ".join(f'<{page_url(request, query.at_page(n))}>; rel="{rel}"' for n, rel in links)
