"""``RateLimits.parse``: the emulator's ``--rate-limits`` value."""

from __future__ import annotations

import pytest

from plaid_async.sandbox import RateLimits


def test_presets_and_off() -> None:
    assert RateLimits.parse("off") is None
    assert RateLimits.parse("sandbox") == RateLimits.sandbox()
    assert RateLimits.parse("production") == RateLimits.production()


def test_fields_alone_leave_the_other_limits_off() -> None:
    assert RateLimits.parse("balance_per_client=40, window=1") == RateLimits(
        accounts_get_per_item=None,
        accounts_get_per_client=None,
        balance_per_item=None,
        balance_per_client=40,
        window=1.0,
    )


def test_fields_after_a_preset_override_it() -> None:
    limits = RateLimits.parse("production,window=6,balance_per_item=2")
    assert limits is not None
    assert (limits.window, limits.balance_per_item, limits.balance_per_client) == (6.0, 2, 1_200)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty"),
        ("balance=4", "FIELD=VALUE"),
        ("balance_per_client", "FIELD=VALUE"),
        ("balance_per_client=x", "not a number"),
        ("balance_per_client=0", "positive"),
        ("window=-1", "positive"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RateLimits.parse(spec)
