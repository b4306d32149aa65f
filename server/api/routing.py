"""REST routes that authenticate before they look at the body.

FastAPI reads and decodes a route's JSON body before it runs any dependency, so a body that
is not JSON would be refused (422) before anyone checked who sent it. Here a body that
cannot be decoded is held back instead: the caller is authenticated first (401 for a
stranger), and only then is the body refused for what it is.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from app.errors import InvalidInput

NOT_JSON = "The body is not valid JSON."


# What an undecodable body becomes. No model accepts bytes (an object of a class of our own
# would pass for a model whose fields all have defaults), and identity tells it apart from a
# body that really was bytes.
UNREADABLE = b"(not JSON)"


class _BodyLaterRequest(Request):
    async def json(self) -> Any:
        try:
            return await super().json()
        except (ValueError, RecursionError):
            return UNREADABLE


class AuthFirstRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def authenticated_first(request: Request) -> Response:
            try:
                return await handle(_BodyLaterRequest(request.scope, request.receive))
            except RequestValidationError as error:
                if error.body is UNREADABLE:
                    raise InvalidInput(NOT_JSON) from None
                raise

        return authenticated_first
