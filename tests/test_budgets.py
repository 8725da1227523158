"""Budgets and the in-memory sliding log: pure, on a fake clock."""

from __future__ import annotations

import pytest

from plaid_async import Budget, Budgets
from plaid_async.budgets import SlidingLog
from plaid_async.endpoints import ACCOUNTS_BALANCE_GET_PATH, ACCOUNTS_GET_PATH
from plaid_async.sandbox import RateLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_margin_is_five_percent_of_the_window_at_most_a_second() -> None:
    assert Budget(40, 1).window == pytest.approx(1.05)
    assert Budget(1_200, 60).window == pytest.approx(61.0)
    assert Budget(5, 60, margin=0).window == 60
    assert Budget(5, 60, margin=2.5).window == 62.5


def test_a_rate_is_spread_evenly() -> None:
    assert Budget.rate(2.5) == Budget(3, 1.2)
    assert Budget.rate(40) == Budget(40, 1.0)


@pytest.mark.parametrize(
    ("args", "error"),
    [((0, 1), ValueError), ((1.5, 1), TypeError), ((True, 1), TypeError), ((1, 0), ValueError)],
)
def test_bad_budgets_are_refused(args: tuple[object, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        Budget(*args)  # type: ignore[arg-type]


def test_budgets_are_keyed_by_endpoint_path() -> None:
    with pytest.raises(ValueError, match="endpoint path"):
        Budgets(per_client={"accounts/get": Budget(1, 1)})
    with pytest.raises(TypeError, match="must be a Budget"):
        Budgets(per_client={ACCOUNTS_GET_PATH: 5})  # type: ignore[dict-item]


def test_the_presets_are_plaids_published_limits_as_the_emulator_enforces_them() -> None:
    for ours, emulator in [
        (Budgets.production(), RateLimits.production()),
        (Budgets.sandbox(), RateLimits.sandbox()),
    ]:
        assert ours.per_client[ACCOUNTS_BALANCE_GET_PATH].limit == emulator.balance_per_client
        assert ours.per_item[ACCOUNTS_BALANCE_GET_PATH].limit == emulator.balance_per_item
        assert ours.per_client[ACCOUNTS_GET_PATH].limit == emulator.accounts_get_per_client
        assert ours.per_item[ACCOUNTS_GET_PATH].limit == emulator.accounts_get_per_item
        budgets = [*ours.per_client.values(), *ours.per_item.values()]
        assert {b.per for b in budgets} == {emulator.window}
    assert Budgets.production().per_client[ACCOUNTS_BALANCE_GET_PATH] == Budget(1_200, 60)
    with pytest.raises(ValueError, match="development"):
        Budgets.for_environment("development")


def test_scaled_budgets_are_a_share_of_each() -> None:
    half = Budgets.production().scaled(0.25)
    assert half.per_client[ACCOUNTS_BALANCE_GET_PATH] == Budget(300, 60)
    assert half.per_item[ACCOUNTS_BALANCE_GET_PATH] == Budget(1, 60)  # never below one


def test_rules_name_the_client_budget_then_the_items() -> None:
    budgets = Budgets.production()
    assert budgets.rules(ACCOUNTS_GET_PATH, "ab12") == [
        (f"client:{ACCOUNTS_GET_PATH}", Budget(15_000, 60)),
        (f"item:{ACCOUNTS_GET_PATH}:ab12", Budget(15, 60)),
    ]
    assert budgets.rules("/other", "ab12") == []


def test_the_log_admits_up_to_the_limit_then_says_how_long_to_wait() -> None:
    clock = Clock()
    log = SlidingLog(clock)
    rules = [("client:/x", Budget(2, 10, margin=0))]
    assert log.try_acquire(rules) == 0
    clock.now += 4
    assert log.try_acquire(rules) == 0
    assert log.try_acquire(rules) == pytest.approx(6)  # the first leaves the window in 6 s
    clock.now += 6
    assert log.try_acquire(rules) == 0
    assert log.try_acquire(rules) == pytest.approx(4)


def test_the_log_counts_a_request_in_all_its_budgets_or_in_none() -> None:
    clock = Clock()
    log = SlidingLog(clock)
    client = ("client:/x", Budget(3, 10, margin=0))
    assert log.try_acquire([client, ("item:/x:a", Budget(1, 10, margin=0))]) == 0
    assert log.try_acquire([client, ("item:/x:a", Budget(1, 10, margin=0))]) > 0
    assert log.try_acquire([client, ("item:/x:b", Budget(1, 10, margin=0))]) == 0
    assert log.try_acquire([client, ("item:/x:c", Budget(1, 10, margin=0))]) == 0  # 3rd
    assert log.try_acquire([client, ("item:/x:d", Budget(1, 10, margin=0))]) > 0


def test_the_log_forgets_items_whose_window_has_passed() -> None:
    clock = Clock()
    log = SlidingLog(clock)
    for n in range(100):
        log.try_acquire([(f"item:/x:{n}", Budget(1, 60))])
    clock.now += 120
    log.try_acquire([("item:/x:new", Budget(1, 60))])
    assert list(log._logs) == ["item:/x:new"]
