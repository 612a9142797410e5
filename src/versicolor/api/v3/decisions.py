"""After an edit of Urls or Environments, this process's cached host decisions of the account are dropped.

Other workers' caches follow within the authoriser's TTL (core/domains/authorization.py); the worker that
made the change follows at once. It drops them once the answer has been sent, so after the commit: a page
request in between cannot put the old state back for a whole TTL.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request

from versicolor.core.domains.authorization import HostAuthorizer


class DecisionsForgetter:
    """Schedules the drop of an account's cached decisions for after the response."""

    def __init__(self, authorizer: HostAuthorizer | None, background: BackgroundTasks) -> None:
        self._authorizer = authorizer
        self._background = background

    def after_response(self, account_id: int) -> None:
        """Drop `account_id`'s cached decisions once this request is done."""
        if self._authorizer is not None:
            self._background.add_task(self._authorizer.forget, account_id)


def decisions_forgetter(request: Request, background: BackgroundTasks) -> DecisionsForgetter:
    """The forgetter for the app's host authoriser (none installed: nothing to drop)."""
    authorizer = getattr(request.app.state, "host_authorizer", None)
    return DecisionsForgetter(authorizer if isinstance(authorizer, HostAuthorizer) else None, background)


ForgetDecisions = Annotated[DecisionsForgetter, Depends(decisions_forgetter)]
