"""What Discord sends to /api/discord, modelled from Discord's "Receiving and Responding" docs.

Only the fields timetrack reads are declared; everything else is ignored, so new fields
Discord adds never break parsing. A guild interaction names its caller in `member.user`, a
DM (or a user-installed app outside a guild) in `user`.

Every string read is `StorableText`: one carrying a NUL (or a lone surrogate) fails parsing
(`unreadable_type` tells it apart), before it can reach the database.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from app.text import UNSTORABLE, StorableText

# Option types that nest a subcommand's own options.
SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2

OptionValue = StorableText | int | float | bool


class Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class DiscordUser(Payload):
    id: StorableText = Field(min_length=1, max_length=64)
    username: StorableText | None = None
    global_name: StorableText | None = None


class Member(Payload):
    user: DiscordUser | None = None
    # The member's permissions in the channel, as a decimal bit set.
    permissions: StorableText | None = Field(default=None, max_length=32)


class CommandOption(Payload):
    name: StorableText
    type: int
    value: OptionValue | None = None
    focused: bool = False
    options: list[CommandOption] = []


class CommandData(Payload):
    name: StorableText
    id: StorableText | None = None
    type: int = 1
    options: list[CommandOption] = []

    def path_and_leaves(self) -> tuple[tuple[str, ...], list[CommandOption]]:
        """(`session`, `in`) and the options given to that subcommand."""
        path = [self.name]
        options = self.options
        while len(options) == 1 and options[0].type in (SUB_COMMAND, SUB_COMMAND_GROUP):
            path.append(options[0].name)
            options = options[0].options
        return tuple(path), options


class ComponentData(Payload):
    custom_id: StorableText = Field(max_length=100)
    component_type: int = 2


class ModalField(Payload):
    """A component of a submitted modal: a Label (18) holding `component`, a legacy action
    row (1) holding `components`, or the text input (4) itself."""

    type: int
    custom_id: StorableText | None = None
    value: StorableText | None = None
    component: ModalField | None = None
    components: list[ModalField] = []


class ModalData(Payload):
    custom_id: StorableText = Field(max_length=100)
    components: list[ModalField] = []

    def values(self) -> dict[str, str]:
        found: dict[str, str] = {}
        pending = list(self.components)
        while pending:
            field = pending.pop()
            if field.custom_id is not None and field.value is not None:
                found[field.custom_id] = field.value
            if field.component is not None:
                pending.append(field.component)
            pending.extend(field.components)
        return found


class MessageRef(Payload):
    id: StorableText
    channel_id: StorableText | None = None


class Ping(Payload):
    type: Literal[1]


class Interaction(Payload):
    id: StorableText = Field(min_length=1, max_length=64)
    application_id: StorableText | None = None
    token: StorableText = Field(min_length=1)
    guild_id: StorableText | None = None
    channel_id: StorableText | None = None
    member: Member | None = None
    user: DiscordUser | None = None
    locale: StorableText | None = None

    @model_validator(mode="after")
    def _has_caller(self) -> Interaction:
        if (self.member is None or self.member.user is None) and self.user is None:
            raise ValueError("an interaction names its caller in member.user or user")
        return self

    @property
    def caller(self) -> DiscordUser:
        if self.member is not None and self.member.user is not None:
            return self.member.user
        assert self.user is not None
        return self.user

    @property
    def user_id(self) -> str:
        return self.caller.id

    @property
    def username(self) -> str | None:
        return self.caller.username

    def has_permission(self, bit: int) -> bool:
        """Whether the caller holds a permission here; never outside a server."""
        granted = self.member.permissions if self.member is not None else None
        return bool(granted and granted.isdecimal() and int(granted) & bit)


class _WithCommand(Interaction):
    data: CommandData

    def path(self) -> tuple[str, ...]:
        return self.data.path_and_leaves()[0]

    def options(self) -> dict[str, OptionValue]:
        leaves = self.data.path_and_leaves()[1]
        return {option.name: option.value for option in leaves if option.value is not None}


class CommandInteraction(_WithCommand):
    type: Literal[2]


AUTOCOMPLETE = 4


class AutocompleteInteraction(_WithCommand):
    type: Literal[4]

    def focused(self) -> CommandOption | None:
        return next((o for o in self.data.path_and_leaves()[1] if o.focused), None)


class ComponentInteraction(Interaction):
    type: Literal[3]
    data: ComponentData
    message: MessageRef | None = None


class ModalInteraction(Interaction):
    type: Literal[5]
    data: ModalData
    message: MessageRef | None = None


Parsed = (
    Ping | CommandInteraction | AutocompleteInteraction | ComponentInteraction | ModalInteraction
)
_ADAPTER: TypeAdapter[Parsed] = TypeAdapter(Annotated[Parsed, Field(discriminator="type")])


def parse_interaction(body: bytes) -> Parsed:
    """Parse a verified body; raises pydantic.ValidationError for anything malformed."""
    return _ADAPTER.validate_json(body)


def unreadable_type(error: ValidationError) -> int | None:
    """The interaction type of a payload refused for text that cannot be stored; None when
    parsing failed on its shape instead."""
    for item in error.errors():
        tag = item["loc"][0] if item["loc"] else None
        if item["type"] == UNSTORABLE and isinstance(tag, int):
            return tag
    return None
