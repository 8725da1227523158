"""The pytest plugin, as a user's suite meets it: a test file of theirs, run by ``pytester``.

The plugin is installed through its ``pytest11`` entry point, so the user's files below load
nothing themselves. They run in pytest-asyncio's auto mode and in its strict mode (where every
async test carries ``@pytest.mark.asyncio``), with warnings as errors.
"""

from __future__ import annotations

import pytest

USERS_TESTS = """
import pytest

from plaid_async import APIError, ItemError, PlaidClient
from plaid_async.sandbox import Faults, RateLimits, SandboxServer


{mark}async def test_balances(plaid_client: PlaidClient, plaid_sandbox: SandboxServer) -> None:
    resp = await plaid_client.accounts_balance_get(plaid_sandbox.token(1))
    assert resp.accounts
    assert plaid_client.base_url == plaid_sandbox.url


{mark}async def test_a_user_who_must_log_in_again(plaid_client, plaid_sandbox) -> None:
    token = plaid_sandbox.token(2)
    await plaid_client.accounts_get(token)
    plaid_sandbox.set_item_error(token, "ITEM_LOGIN_REQUIRED")
    with pytest.raises(ItemError) as info:
        await plaid_client.accounts_get(token)
    assert info.value.error_code == "ITEM_LOGIN_REQUIRED"


@pytest.mark.plaid_sandbox(seed=3, faults=Faults(rate_500=1.0))
{mark}async def test_the_marker_configures_the_server(plaid_client, plaid_sandbox) -> None:
    with pytest.raises(APIError):
        await plaid_client.accounts_get(plaid_sandbox.token(1))
    assert plaid_sandbox.stats.requests == 3  # plaid_client retries, fast
    assert plaid_sandbox.faults == Faults(rate_500=1.0)


@pytest.mark.plaid_sandbox(client_id="my-id", secret="my-secret", rate_limits=RateLimits())
{mark}async def test_the_marker_sets_credentials_and_limits(plaid_sandbox) -> None:
    assert (plaid_sandbox.client_id, plaid_sandbox.secret) == ("my-id", "my-secret")
    assert plaid_sandbox.rate_limits == RateLimits.sandbox()


{mark}async def test_each_test_gets_its_own_server(plaid_sandbox) -> None:
    assert plaid_sandbox.stats.requests == 0
    assert plaid_sandbox.faults == Faults()


def test_a_sync_test_is_left_alone() -> None:
    assert True
"""

USERS_RESULT = {"passed": 6}


def write_suite(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makeini(
        f"""
        [pytest]
        asyncio_mode = {mode}
        asyncio_default_fixture_loop_scope = function
        filterwarnings = error
        """
    )
    mark = "@pytest.mark.asyncio\n" if mode == "strict" else ""
    pytester.makepyfile(test_users=USERS_TESTS.format(mark=mark))


@pytest.mark.parametrize("mode", ["auto", "strict"])
def test_a_users_suite_passes(pytester: pytest.Pytester, mode: str) -> None:
    """``--strict-markers``: the marker is registered by the plugin, not by the user."""
    write_suite(pytester, mode)
    result = pytester.runpytest("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(**USERS_RESULT)


def test_the_marker_is_documented(pytester: pytest.Pytester) -> None:
    write_suite(pytester, "auto")
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.plaid_sandbox(**kwargs): *SandboxServer*"])


def test_a_bad_marker_argument_fails_that_test_with_the_reason(pytester: pytest.Pytester) -> None:
    write_suite(pytester, "auto")
    pytester.makepyfile(
        test_users="""
        import pytest

        @pytest.mark.plaid_sandbox(sead=1)
        async def test_typo(plaid_sandbox):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unexpected keyword argument 'sead'*"])


def test_a_bad_marker_value_fails_that_test_at_setup_naming_it(pytester: pytest.Pytester) -> None:
    """Refused when the server is made, not answered with a 500 on every request."""
    write_suite(pytester, "auto")
    pytester.makepyfile(
        test_users="""
        import pytest

        @pytest.mark.plaid_sandbox(faults={"rate_500": 1.0})
        async def test_faults_as_a_dict(plaid_client, plaid_sandbox):
            await plaid_client.accounts_get(plaid_sandbox.token(1))
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*TypeError: faults must be a Faults, not dict*"])


def test_without_pytest_asyncio_the_fixtures_say_what_to_install(
    pytester: pytest.Pytester,
) -> None:
    """pytest-asyncio blocked and not importable: the plugin loads, a test using a fixture
    fails with one clear line, and the rest of the suite is unaffected."""
    pytester.makeconftest(
        """
        import sys

        sys.modules["pytest_asyncio"] = None  # as if it were not installed
        pytest_plugins = ["plaid_async.sandbox.pytest_plugin"]
        """
    )
    pytester.makepyfile(
        """
        def test_uses_it(plaid_sandbox):
            pass

        def test_does_not():
            pass
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:asyncio", "-p", "no:plaid_async", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*need pytest-asyncio: pip install pytest-asyncio*"])
