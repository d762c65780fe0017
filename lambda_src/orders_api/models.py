"""Request and response models. They drive validation and the OpenAPI document.

Field names are camelCase on purpose: they are the wire format shared with the original Java service.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer

# Stargate stores every number as a double: larger integers would come back changed.
MAX_SAFE_INTEGER = 2**53 - 1


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Invisible format characters allowed in names: the zero-width joiner and non-joiner, which emoji
# sequences and several scripts (Persian, Indic) need. Every other control or format character
# (bidirectional overrides, zero-width spaces, byte-order marks ...) can disguise what a name says.
_ALLOWED_FORMAT_CHARACTERS = frozenset("\u200c\u200d")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# What makes a name visible: a letter, digit, punctuation mark or symbol, but none of the letters that
# render as blank space (Hangul fillers, the blank braille pattern).
_VISIBLE_CATEGORIES = frozenset({"L", "N", "P", "S"})
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _visible_text(value: str) -> str:
    for character in value:
        if (
            unicodedata.category(character) in _REFUSED_CATEGORIES
            and character not in _ALLOWED_FORMAT_CHARACTERS
        ):
            raise ValueError(
                f"must not contain control, invisible formatting, bidirectional or unassigned characters "
                f"(found U+{ord(character):04X})"
            )
    if not any(
        unicodedata.category(character)[0] in _VISIBLE_CATEGORIES and character not in _BLANK_LOOKING
        for character in value
    ):
        raise ValueError("must contain a visible character")
    return value


# Text a person reads: no control characters, no bidirectional overrides, not blank.
VisibleText = Annotated[str, AfterValidator(_visible_text)]


def _plausible(moment: datetime) -> datetime:
    # A stored timestamp far from now is damage, not an order: it would overflow date arithmetic.
    if not 2000 <= moment.astimezone(UTC).year <= 9000:
        raise ValueError("is not a plausible order time")
    return moment


# ISO 8601 in UTC with milliseconds, e.g. 2026-11-27T09:18:42.716Z; always with a time zone.
Timestamp = Annotated[
    AwareDatetime,
    AfterValidator(_plausible),
    PlainSerializer(_iso_utc, return_type=str, when_used="json"),
]


class OrderStatus(StrEnum):
    """Where an order is in its life."""

    PENDING = "PENDING"
    PAID = "PAID"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


class NewOrder(BaseModel):
    """The body of ``POST /orders``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    productName: Annotated[
        VisibleText,
        Field(
            min_length=1,
            max_length=200,
            description="What is ordered: visible text, no control or bidirectional formatting characters.",
        ),
    ]
    productQuantity: Annotated[int, Field(ge=1, le=10_000, description="How many.")]
    productPrice: Annotated[
        int, Field(ge=0, le=MAX_SAFE_INTEGER, description="Unit price in minor units (cents).")
    ]

    def fingerprint(self) -> str:
        """A stable digest of the request, to tell a replay from a different order under one key."""
        canonical = json.dumps(self.model_dump(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


class StatusChange(BaseModel):
    """The body of ``PATCH /orders/{orderId}``."""

    model_config = ConfigDict(extra="forbid")

    status: OrderStatus


class Order(BaseModel):
    """An order as the API returns it."""

    orderId: UUID
    productName: str
    productQuantity: int
    productPrice: int
    status: OrderStatus
    createdAt: Timestamp
    updatedAt: Timestamp


class OrderPage(BaseModel):
    """One page of ``GET /orders``; follow ``nextCursor`` until it is null."""

    items: list[Order]
    nextCursor: str | None = None


class ErrorBody(BaseModel):
    """Every error answer carries a human-readable message and the request id the log is keyed by."""

    message: str
    errors: list[dict[str, str]] | None = None
    requestId: str | None = Field(
        default=None, description="API Gateway's id of the request; the service's log lines carry it."
    )


class StoredOrder(Order):
    """An order as the store keeps it: the public fields plus bookkeeping no caller sees.

    ``owner`` is the id of the caller that created it (``identity.Caller.id``); orders stored before
    callers were recorded have none.
    """

    model_config = ConfigDict(extra="ignore")

    requestFingerprint: str = ""
    owner: str | None = None

    def public(self) -> Order:
        """The order without the store's bookkeeping: its public fields, already validated as they
        were read, copied without validating them again."""
        return Order.model_construct(**{name: getattr(self, name) for name in Order.model_fields})

    def to_document(self) -> dict[str, object]:
        """The JSON document written to the store (timestamps as ISO 8601 strings in UTC)."""
        return self.model_dump(mode="json")
