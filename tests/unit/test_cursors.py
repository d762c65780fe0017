"""Sealed cursors: a caller can follow the cursors it was given, and nothing else."""

from __future__ import annotations

import base64

import pytest

from orders_api.cursors import CursorSeal, seal_from_env
from orders_api.errors import ConfigurationError, InvalidCursor
from orders_api.identity import Caller

ALICE = Caller("iam:arn:aws:iam::123456789012:user/alice", "iam")
BOB = Caller("iam:arn:aws:iam::123456789012:user/bob", "iam")
KEY = "k" * 40
POSITION = base64.urlsafe_b64encode(b'{"v":1,"status":null,"pageState":"abc"}').rstrip(b"=").decode()


def seal(key: str = KEY) -> CursorSeal:
    return CursorSeal(lambda: key)


def test_a_sealed_cursor_opens_for_its_caller() -> None:
    cursor = seal().seal(ALICE, POSITION)

    assert seal().open(ALICE, cursor) == POSITION


def test_a_cursor_is_refused_for_another_caller() -> None:
    cursor = seal().seal(ALICE, POSITION)

    with pytest.raises(InvalidCursor):
        seal().open(BOB, cursor)


def test_an_edited_position_is_refused() -> None:
    cursor = seal().seal(ALICE, POSITION)
    tag = cursor.rsplit(".", 1)[1]
    edited = base64.urlsafe_b64encode(b'{"v":1,"status":"PAID","pageState":"abc"}').rstrip(b"=").decode()

    with pytest.raises(InvalidCursor):
        seal().open(ALICE, f"{edited}.{tag}")


def test_a_cursor_sealed_with_another_key_is_refused_so_rotating_the_key_closes_open_cursors() -> None:
    cursor = seal("a" * 40).seal(ALICE, POSITION)

    with pytest.raises(InvalidCursor):
        seal("b" * 40).open(ALICE, cursor)


def test_the_key_is_read_again_when_it_changes() -> None:
    key = ["a" * 40]
    rotating = CursorSeal(lambda: key[0])
    before = rotating.seal(ALICE, POSITION)

    key[0] = "b" * 40

    with pytest.raises(InvalidCursor):
        rotating.open(ALICE, before)
    assert rotating.open(ALICE, rotating.seal(ALICE, POSITION)) == POSITION


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param(POSITION, id="unsealed-position"),
        pytest.param(f"{POSITION}.", id="empty-tag"),
        pytest.param(f".{'A' * 22}", id="empty-position"),
        pytest.param(f"{POSITION}.not*base64", id="tag-not-base64"),
        pytest.param(f"{POSITION}.{'A' * 22}", id="forged-tag"),
        pytest.param(f"{POSITION}\u202e.{'A' * 22}", id="non-ascii"),
        pytest.param("." * 50, id="dots"),
        pytest.param("{sealed}=", id="tag-with-padding"),
        pytest.param("{sealed}!!", id="tag-with-trailing-junk"),
    ],
)
def test_anything_not_sealed_here_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        seal().open(ALICE, cursor.format(sealed=seal().seal(ALICE, POSITION)))


def test_caller_and_position_cannot_be_shifted_into_one_another() -> None:
    cursor = seal().seal(Caller("jwt:i#x\0Y", "jwt"), POSITION)
    position, tag = cursor.rsplit(".", 1)

    with pytest.raises(InvalidCursor):
        seal().open(Caller("jwt:i#x", "jwt"), f"Y\0{position}.{tag}")


def test_keys_come_from_the_environment_and_must_be_long_enough() -> None:
    assert isinstance(seal_from_env({"CURSOR_KEY": KEY}), CursorSeal)
    with pytest.raises(ConfigurationError, match="CURSOR_KEY must be at least 32"):
        seal_from_env({"CURSOR_KEY": "short"})
    with pytest.raises(ConfigurationError, match="CURSOR_SECRET_ID or CURSOR_KEY"):
        seal_from_env({})
    with pytest.raises(ConfigurationError, match="not both"):
        seal_from_env({"CURSOR_KEY": KEY, "CURSOR_SECRET_ID": "orders/cursor-key"})


def test_a_secret_key_shorter_than_32_characters_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="at least 32"):
        seal("short").seal(ALICE, POSITION)
