"""Request and response models. They drive validation and the OpenAPI document.

Field names are camelCase on purpose: they are the wire format shared with the original Java service.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, model_validator

# Stargate stores every number as a double: larger integers would come back changed.
MAX_SAFE_INTEGER = 2**53 - 1


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Invisible format characters allowed in names: the zero-width joiner and non-joiner, which emoji
# sequences and several scripts (Persian, Indic) need. Every other control or format character
# (bidirectional overrides, zero-width spaces, byte-order marks ...) can disguise what a name says.
_ALLOWED_FORMAT_CHARACTERS = frozenset("\u200c\u200d")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def _visible_text(value: str) -> str:
    for character in value:
        if (
            unicodedata.category(character) in _REFUSED_CATEGORIES
            and character not in _ALLOWED_FORMAT_CHARACTERS
        ):
            raise ValueError(
                f"must not contain control, invisible formatting or bidirectional characters "
                f"(found U+{ord(character):04X})"
            )
    if not value.strip():
        raise ValueError("must contain a visible character")
    return value


# Text a person reads: no control characters, no bidirectional overrides, not blank.
VisibleText = Annotated[str, AfterValidator(_visible_text)]

# ISO 8601 in UTC with milliseconds, e.g. 2026-11-27T09:18:42.716Z
Timestamp = Annotated[datetime, PlainSerializer(_iso_utc, return_type=str, when_used="json")]


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

    @model_validator(mode="before")
    @classmethod
    def _whole_floats_are_integers(cls, data: Any) -> Any:
        # JSON has one number type: 2.0 is the integer 2 (as JSON Schema says); "2", true and 2.5 stay
        # refused by the strict integer fields.
        if isinstance(data, dict):
            return {
                key: int(value)
                if key in ("productQuantity", "productPrice")
                and isinstance(value, float)
                and value.is_integer()
                else value
                for key, value in data.items()
            }
        return data

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
        """The order without the store's bookkeeping."""
        return Order.model_validate(self.model_dump(exclude={"requestFingerprint", "owner"}))

    def to_document(self) -> dict[str, object]:
        """The JSON document written to the store (timestamps as ISO 8601 strings in UTC)."""
        return self.model_dump(mode="json")
