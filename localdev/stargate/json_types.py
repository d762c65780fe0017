"""The JSON value type shared by the storage engine and the HTTP dialects."""

from __future__ import annotations

from typing import TypeAlias

JsonObject: TypeAlias = dict[str, "JsonValue"]
JsonArray: TypeAlias = list["JsonValue"]
JsonValue: TypeAlias = bool | int | float | str | JsonArray | JsonObject | None
