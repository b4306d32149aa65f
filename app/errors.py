"""Domain errors. Each carries the HTTP status and a stable code; front doors render them."""


class TimetrackError(Exception):
    status_code = 500
    code = "error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def headers(self) -> dict[str, str]:
        """Headers the answer must carry besides its body."""
        return {}


class InvalidInput(TimetrackError):
    status_code = 422
    code = "invalid_input"


class BadRequest(TimetrackError):
    status_code = 400
    code = "bad_request"


class NotFound(TimetrackError):
    status_code = 404
    code = "not_found"


class Conflict(TimetrackError):
    status_code = 409
    code = "conflict"


class Unauthorized(TimetrackError):
    status_code = 401
    code = "unauthorized"


class Forbidden(TimetrackError):
    status_code = 403
    code = "forbidden"


class Unavailable(TimetrackError):
    status_code = 503
    code = "unavailable"


class NotConfigured(Unavailable):
    code = "not_configured"


class TooManyRequests(TimetrackError):
    status_code = 429
    code = "too_many_requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class NotOwner(NotFound):
    """The session exists but belongs to someone else.

    REST answers it as a plain 404 so ids do not leak; Discord tells the clicker the card
    is not theirs.
    """

    def __init__(self, detail: str = "No session with that id.") -> None:
        super().__init__(detail)
