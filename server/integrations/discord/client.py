"""Outbound Discord REST: follow-ups to deferred interactions, DMs, command registration.

Follow-ups and DMs run after the user already has an answer, so they log and give up on
any failure instead of raising. Registration is an operator's action and raises
`DiscordError` with a one-line message.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import app as package
from app.config import get_settings
from server import outbound

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger(__name__)

# Seconds for the whole call, and for connecting.
TIMEOUT = (5.0, 3.0)
EPHEMERAL = 64


class DiscordError(Exception):
    """Discord could not be reached, refused, or the settings to reach it are missing."""


def _describe(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    message = body.get("message") if isinstance(body, dict) else None
    return f"HTTP {response.status_code}" + (f": {message}" if message else "")


class DiscordClient:
    def __init__(
        self,
        *,
        api_base: str,
        application_id: str | None,
        bot_token: str | None,
        home_url: str = "http://127.0.0.1:8000",
        timeout: tuple[float, float] = TIMEOUT,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self.application_id = application_id
        self.bot_token = bot_token
        # Discord asks bots to name themselves: `DiscordBot (url, version)`.
        self.user_agent = f"DiscordBot ({home_url}, {package.__version__})"
        self.timeout = timeout

    @classmethod
    def from_settings(cls) -> DiscordClient:
        settings = get_settings()
        token = settings.discord_bot_token
        return cls(
            api_base=settings.discord_api_base,
            application_id=settings.discord_application_id,
            bot_token=token.get_secret_value() if token is not None else None,
            home_url=settings.base_url,
        )

    @property
    def can_send_dms(self) -> bool:
        return bool(self.bot_token)

    def _headers(self, *, bot: bool) -> dict[str, str]:
        headers = {"User-Agent": self.user_agent}
        if bot and self.bot_token:
            headers["Authorization"] = f"Bot {self.bot_token}"
        return headers

    async def _request(
        self, method: str, path: str, *, bot: bool, json: Any = None
    ) -> httpx.Response:
        import httpx

        total, connect = self.timeout
        return await outbound.client().request(
            method,
            f"{self.api_base}{path}",
            headers=self._headers(bot=bot),
            json=json,
            timeout=httpx.Timeout(total, connect=connect),
        )

    async def send_dm(self, user_id: str, message: dict[str, Any]) -> bool:
        """DM a user; False (and a log line) when there is no bot token or Discord says no."""
        if not self.bot_token:
            logger.info("discord DM skipped: DISCORD_BOT_TOKEN is unset")
            return False
        import httpx

        body = dict(message)
        # A DM is a plain channel message: the ephemeral flag only exists for interactions.
        flags = body.pop("flags", None)
        if isinstance(flags, int) and flags & ~EPHEMERAL:
            body["flags"] = flags & ~EPHEMERAL
        try:
            opened = await self._request(
                "POST", "/users/@me/channels", bot=True, json={"recipient_id": user_id}
            )
            if not opened.is_success:
                logger.warning("discord DM channel refused: %s", _describe(opened))
                return False
            channel_id = opened.json()["id"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
            logger.warning("discord DM failed: %s", type(error).__name__)
            return False
        return await self.send_message(channel_id, body, what="DM")

    async def send_message(
        self, channel_id: str, message: dict[str, Any], *, what: str = "channel message"
    ) -> bool:
        """Post a message to a channel as the bot; False (and a log line) when Discord says
        no or cannot be reached."""
        if not self.bot_token:
            logger.info("discord %s skipped: DISCORD_BOT_TOKEN is unset", what)
            return False
        import httpx  # deferred like the client itself: a PING never needs it

        try:
            sent = await self._request(
                "POST", f"/channels/{channel_id}/messages", bot=True, json=message
            )
        except httpx.HTTPError as error:
            logger.warning("discord %s failed: %s", what, type(error).__name__)
            return False
        if not sent.is_success:
            logger.warning("discord %s refused: %s", what, _describe(sent))
            return False
        return True

    def _webhook(self, interaction_token: str, suffix: str = "") -> str | None:
        if not self.application_id:
            logger.warning("discord follow-up skipped: DISCORD_APPLICATION_ID is unset")
            return None
        return f"/webhooks/{self.application_id}/{interaction_token}{suffix}"

    async def _webhook_call(
        self, method: str, interaction_token: str, suffix: str, json: Any = None
    ) -> bool:
        import httpx

        path = self._webhook(interaction_token, suffix)
        if path is None:
            return False
        try:
            response = await self._request(method, path, bot=False, json=json)
        except httpx.HTTPError as error:
            logger.warning("discord %s %s failed: %s", method, suffix or "/", type(error).__name__)
            return False
        if not response.is_success:
            logger.warning("discord %s %s refused: %s", method, suffix or "/", _describe(response))
            return False
        return True

    async def edit_original(self, interaction_token: str, message: dict[str, Any]) -> None:
        """Complete a deferred answer by editing it (the interaction token authorises this)."""
        body = {key: value for key, value in message.items() if key != "flags"}
        await self._webhook_call("PATCH", interaction_token, "/messages/@original", body)

    async def delete_original(self, interaction_token: str) -> bool:
        return await self._webhook_call("DELETE", interaction_token, "/messages/@original")

    async def send_followup(self, interaction_token: str, message: dict[str, Any]) -> bool:
        """A new message after the first answer; it may be ephemeral, unlike an edit."""
        return await self._webhook_call("POST", interaction_token, "", message)

    async def register_commands(
        self, commands: list[dict[str, Any]], guild_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Bulk-overwrite the application's global (or one guild's) commands."""
        missing = [
            name
            for name, value in (
                ("DISCORD_APPLICATION_ID", self.application_id),
                ("DISCORD_BOT_TOKEN", self.bot_token),
            )
            if not value
        ]
        if missing:
            raise DiscordError(f"{' and '.join(missing)} must be set to register commands.")
        path = f"/applications/{self.application_id}"
        if guild_id:
            path += f"/guilds/{guild_id}"
        path += "/commands"
        import httpx

        try:
            response = await self._request("PUT", path, bot=True, json=commands)
        except httpx.HTTPError as error:
            raise DiscordError(f"could not reach Discord ({type(error).__name__}).") from None
        if not response.is_success:
            raise DiscordError(f"Discord refused the commands ({_describe(response)}).")
        try:
            registered = response.json()
        except ValueError:
            registered = []
        return registered if isinstance(registered, list) else []
