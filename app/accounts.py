"""Users, their timezone, subjects, API tokens, page sign-ins, one-time links and GitHub links.

Every credential is a random secret of which only a SHA-256 hash is stored: API tokens,
the page's sign-ins (its cookie), and one-time links (signing in, starting a GitHub link,
the GitHub OAuth state). A one-time link works once, for its own purpose, for ten minutes.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import throttle, timezones
from app.clock import clock
from app.config import get_settings
from app.errors import Conflict, InvalidInput, NotFound
from app.limits import SUBJECT_MAX_LENGTH
from app.models import ApiToken, LinkPurpose, Subject, User
from app.repositories.credentials import (
    ApiTokenRepository,
    LoginLinkRepository,
    SignInRepository,
)
from app.repositories.subjects import SubjectRepository
from app.repositories.users import UserRepository
from app.text import one_line, storable

LINK_LIFETIME = timedelta(minutes=10)
# A page sign-in ends after this long without a visit.
SIGN_IN_LIFETIME = timedelta(days=30)
TOKEN_PREFIX = "tt_"  # noqa: S105 - a public marker, not a secret
LINK_SPENT = "This sign-in link has been used or has expired. Ask for a new one."


def token_hash(secret: str) -> str:
    """What is stored of a bearer secret (token, sign-in, link, invite): never the secret."""
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
    if user.timezone != zone:
        # Monday 08:00 is somewhere else now: this also has the next tick work out when.
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
    token = await ApiTokenRepository(db).add(user_id, name, token_hash(plain))
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
    return await ApiTokenRepository(db).use(token_hash(plain), clock.now())


async def user_for_token_unless_throttled(
    db: AsyncSession, plain: str, address: str
) -> tuple[User | None, int | None]:
    """The token's owner unless `address` is throttled, in one statement: the owner (None
    when the token is unknown or revoked, or not looked up), and the seconds the address
    must wait (None when it need not)."""
    now = clock.now()
    if not plain.startswith(TOKEN_PREFIX):
        return None, await throttle.retry_after(db, address)
    owner, nth = await ApiTokenRepository(db).use_unless_throttled(
        token_hash(plain), now, throttle.of(address, now)
    )
    return owner, throttle.waiting(nth, now)


async def user_for_sign_in_unless_throttled(
    db: AsyncSession, plain: str, address: str
) -> tuple[User | None, int | None]:
    """As `user_for_token_unless_throttled`, for a page sign-in, which then lasts another
    SIGN_IN_LIFETIME."""
    now = clock.now()
    owner, nth = await SignInRepository(db).use_unless_throttled(
        token_hash(plain), now, now + SIGN_IN_LIFETIME, throttle.of(address, now)
    )
    return owner, throttle.waiting(nth, now)


async def _create_link(db: AsyncSession, user_id: str, purpose: LinkPurpose) -> str:
    plain = secrets.token_urlsafe(32)
    expires_at = clock.now() + LINK_LIFETIME
    await LoginLinkRepository(db).add(user_id, purpose, token_hash(plain), expires_at)
    return plain


async def _spend_link(db: AsyncSession, plain: str, purpose: LinkPurpose) -> str | None:
    return await LoginLinkRepository(db).consume(token_hash(plain), purpose, clock.now())


async def create_login_link(db: AsyncSession, user_id: str, username: str | None = None) -> str:
    """A one-time URL that signs the user in to the web page; valid for ten minutes."""
    await lock_user(db, user_id, username)
    plain = await _create_link(db, user_id, LinkPurpose.SIGN_IN)
    return f"{get_settings().base_url}/login/{plain}"


async def login_link_owner(db: AsyncSession, plain: str) -> str:
    """The user a live sign-in link is for, leaving the link unspent."""
    user_id = await LoginLinkRepository(db).owner(
        token_hash(plain), LinkPurpose.SIGN_IN, clock.now()
    )
    if user_id is None:
        raise InvalidInput(LINK_SPENT)
    return user_id


async def consume_login_link(db: AsyncSession, plain: str) -> User:
    user_id = await _spend_link(db, plain, LinkPurpose.SIGN_IN)
    if user_id is None:
        raise InvalidInput(LINK_SPENT)
    return await get_user(db, user_id)


async def create_sign_in(db: AsyncSession, user_id: str) -> str:
    """A new page sign-in; the plain token (for the cookie) is returned once."""
    plain = secrets.token_urlsafe(32)
    now = clock.now()
    await SignInRepository(db).add(user_id, token_hash(plain), now, now + SIGN_IN_LIFETIME)
    return plain


async def user_for_sign_in(db: AsyncSession, plain: str) -> User | None:
    """The user of a live sign-in, which then lasts another SIGN_IN_LIFETIME."""
    now = clock.now()
    return await SignInRepository(db).use(token_hash(plain), now, now + SIGN_IN_LIFETIME)


async def sign_out(db: AsyncSession, plain: str) -> None:
    await SignInRepository(db).remove(token_hash(plain))


async def sign_out_everywhere(db: AsyncSession, user_id: str) -> int:
    """End every page sign-in of the user; how many there were."""
    await get_user(db, user_id)
    return await SignInRepository(db).remove_all(user_id)


async def create_github_link_start(db: AsyncSession, user_id: str) -> str:
    """A one-time URL that starts linking GitHub for this user (what `/github link` offers).

    It can only start the OAuth flow; the login linked is whoever then signs in to GitHub
    and approves.
    """
    await ensure_user(db, user_id)
    plain = await _create_link(db, user_id, LinkPurpose.GITHUB_LINK)
    return f"{get_settings().base_url}/github/link?{urlencode({'token': plain})}"


async def consume_github_link_start(db: AsyncSession, plain: str) -> str | None:
    """The user a start link is for, spending it; None when it is unknown, used or expired."""
    return await _spend_link(db, plain, LinkPurpose.GITHUB_LINK)


async def create_github_state(db: AsyncSession, user_id: str) -> str:
    """The OAuth `state` of a GitHub linking flow started for this user: one-time."""
    return await _create_link(db, user_id, LinkPurpose.GITHUB_STATE)


async def consume_github_state(db: AsyncSession, plain: str) -> str | None:
    return await _spend_link(db, plain, LinkPurpose.GITHUB_STATE)


async def prune_credentials(db: AsyncSession) -> None:
    """Forget expired sign-ins and one-time links (spent links expire within minutes)."""
    now = clock.now()
    await SignInRepository(db).prune(now)
    await LoginLinkRepository(db).prune(now)


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
