"""Users, their timezone, subjects, API tokens, one-time login links and GitHub links."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import timedelta
from urllib.parse import urlencode

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import timezones
from app.clock import clock
from app.config import get_settings
from app.errors import Conflict, InvalidInput, NotFound
from app.limits import SUBJECT_MAX_LENGTH
from app.models import ApiToken, Subject, User
from app.repositories.credentials import ApiTokenRepository, LoginLinkRepository
from app.repositories.subjects import SubjectRepository
from app.repositories.users import UserRepository
from app.text import one_line, storable

LOGIN_LINK_LIFETIME = timedelta(minutes=10)
GITHUB_LINK_LIFETIME = timedelta(minutes=10)
TOKEN_PREFIX = "tt_"  # noqa: S105 - a public marker, not a secret
_GITHUB_LINK_SALT = "timetrack.github-link-start"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _checked(user_id: str) -> str:
    if not user_id.strip() or len(user_id) > 64 or user_id != user_id.strip():
        raise InvalidInput("A user id is 1 to 64 characters, without surrounding spaces.")
    return user_id


async def lock_user(db: AsyncSession, user_id: str, username: str | None = None) -> None:
    """Create the user if new and lock its row for the rest of the transaction."""
    timezone = get_settings().default_timezone
    await UserRepository(db).lock(_checked(user_id), username, timezone)


async def ensure_user(db: AsyncSession, user_id: str, username: str | None = None) -> User:
    """Get or create the user and lock its row for the rest of the transaction."""
    timezone = get_settings().default_timezone
    return await UserRepository(db).upsert_locked(_checked(user_id), username, timezone)


def in_lock_order(user_ids: Iterable[str]) -> list[str]:
    """Each user once, in the order every transaction that locks several users locks them.

    Two transactions that each lock several users could otherwise take them in opposite
    orders and deadlock; any code acting on more than one user walks them in this order.
    """
    return sorted(set(user_ids))


async def get_user(db: AsyncSession, user_id: str) -> User:
    user = await UserRepository(db).get(user_id)
    if user is None:
        raise NotFound(f"No user {user_id!r}.")
    return user


async def timezone_of(db: AsyncSession, user_id: str) -> str:
    """The user's timezone, or the default for someone we have not met yet."""
    user = await UserRepository(db).get(user_id)
    return user.timezone if user is not None else get_settings().default_timezone


async def set_timezone(db: AsyncSession, user_id: str, name: str) -> User:
    zone = timezones.validate(name)
    user = await ensure_user(db, user_id)
    await UserRepository(db).set_timezone(user, zone)
    return user


def normalise_subject(name: str) -> str:
    name = one_line(storable(name, "subject name"))
    if not name:
        raise InvalidInput("A subject needs a name.")
    if len(name) > SUBJECT_MAX_LENGTH:
        raise InvalidInput(f"A subject name is at most {SUBJECT_MAX_LENGTH} characters.")
    return name


async def find_or_create_subject(db: AsyncSession, user_id: str, name: str) -> Subject:
    """The user's subject of that name, ignoring case; created with this spelling if new."""
    return await SubjectRepository(db).find_or_create(user_id, normalise_subject(name))


async def existing_subject(db: AsyncSession, user_id: str, name: str) -> Subject | None:
    return await SubjectRepository(db).find(user_id, normalise_subject(name))


async def subject_names(
    db: AsyncSession, user_id: str, prefix: str = "", limit: int = 25
) -> Sequence[str]:
    return await SubjectRepository(db).recently_used(user_id, prefix, limit)


async def create_api_token(
    db: AsyncSession, user_id: str, name: str | None = None
) -> tuple[ApiToken, str]:
    """A new personal token; the plain text is returned once and only its hash is kept."""
    await lock_user(db, user_id)
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = await ApiTokenRepository(db).add(user_id, name, _hash(plain))
    return token, plain


async def revoke_api_token(db: AsyncSession, token_id: int) -> None:
    repository = ApiTokenRepository(db)
    if not await repository.revoke(token_id, clock.now()):
        if await repository.get(token_id) is None:
            raise NotFound(f"No token with id {token_id}.")
        raise Conflict(f"Token {token_id} is already revoked.")


async def user_for_token(db: AsyncSession, plain: str) -> User | None:
    if not plain.startswith(TOKEN_PREFIX):
        return None
    return await ApiTokenRepository(db).use(_hash(plain), clock.now())


async def create_login_link(db: AsyncSession, user_id: str, username: str | None = None) -> str:
    """A one-time URL that signs the user in to the web page; valid for ten minutes."""
    await lock_user(db, user_id, username)
    plain = secrets.token_urlsafe(32)
    await LoginLinkRepository(db).add(user_id, _hash(plain), clock.now() + LOGIN_LINK_LIFETIME)
    return f"{get_settings().base_url}/login/{plain}"


async def consume_login_link(db: AsyncSession, plain: str) -> User:
    user_id = await LoginLinkRepository(db).consume(_hash(plain), clock.now())
    if user_id is None:
        raise InvalidInput("This sign-in link has been used or has expired. Ask for a new one.")
    return await get_user(db, user_id)


def _github_link_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().signing_key(), salt=_GITHUB_LINK_SALT)


def github_link_start_url(user_id: str) -> str:
    """A 10-minute URL that starts linking GitHub for this user (what `/github link` offers).

    Why a signed token in a URL is safe here: it names one user, lives 10 minutes and is
    shown only to that user. It can only start the OAuth flow; the login linked is whoever
    then signs in to GitHub and approves.
    """
    token = _github_link_signer().dumps(user_id)
    return f"{get_settings().base_url}/github/link?{urlencode({'token': token})}"


def user_for_github_link_start(token: str) -> str | None:
    """The user a start token names, or None when it is forged or expired."""
    try:
        user_id = _github_link_signer().loads(
            token, max_age=int(GITHUB_LINK_LIFETIME.total_seconds())
        )
    except BadSignature:
        return None
    return user_id if isinstance(user_id, str) and user_id else None


async def link_github(db: AsyncSession, user_id: str, login: str) -> User:
    """Record a verified GitHub login; a login belongs to one user only."""
    login = login.strip()
    if not login:
        raise InvalidInput("A GitHub login is needed.")
    user = await ensure_user(db, user_id)
    holder = await UserRepository(db).by_github_login(login)
    if holder is not None and holder.id != user.id:
        raise Conflict(f"GitHub account {login} is already linked to another user.")
    try:
        # A savepoint: losing a race for the login leaves the caller's transaction usable.
        async with db.begin_nested():
            await UserRepository(db).set_github_login(user, login)
    except IntegrityError:
        raise Conflict(f"GitHub account {login} is already linked to another user.") from None
    return user


async def unlink_github(db: AsyncSession, user_id: str) -> User:
    user = await ensure_user(db, user_id)
    await UserRepository(db).set_github_login(user, None)
    return user


async def user_for_github_login(db: AsyncSession, login: str) -> User | None:
    return await UserRepository(db).by_github_login(login)
