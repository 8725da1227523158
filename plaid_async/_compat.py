"""Every difference between the Python versions this package supports (3.10 to 3.13), in one place.

Python 3.11 added ``asyncio.timeout`` and the cancellation count of a task
(``Task.cancelling``/``Task.uncancel``). On 3.10 the first is built from ``call_later`` and
``Task.cancel``; the second has no public equivalent (see :func:`being_cancelled`).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable

__all__ = ["being_cancelled", "uncancel", "within"]


async def within(awaitable: Awaitable[None], seconds: float) -> bool:
    """Await ``awaitable`` in the current task for at most ``seconds``: True if it finished,
    False if the time ran out (it is then cancelled). Any other cancellation propagates.

    In the calling task, not through ``asyncio.wait_for``: before Python 3.12 that returns the
    inner result when the caller's cancellation lands as it finishes (CPython gh-86296), and
    the caller would go on as if it had not been cancelled.
    """
    if sys.version_info >= (3, 11):
        try:
            async with asyncio.timeout(seconds):
                await awaitable
        except TimeoutError:
            return False
        return True
    task = asyncio.current_task()
    assert task is not None
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    timer = asyncio.get_running_loop().call_later(seconds, expire)
    try:
        await awaitable
    except asyncio.CancelledError:
        if expired:
            return False
        raise
    finally:
        timer.cancel()
    return True


def uncancel(task: asyncio.Task[object] | None) -> int:
    """Take back one cancellation request of ``task`` and return how many remain.

    Python 3.10 does not count requests: there nothing is taken back and 0 is returned (a
    task cancelled twice on 3.10 sees one CancelledError, as ``Task.cancel`` documents).
    """
    if task is None:
        return 0
    if sys.version_info >= (3, 11):
        return task.uncancel()
    return 0


def being_cancelled(task: asyncio.Task[object]) -> bool:
    """Whether someone has already asked ``task`` to cancel.

    3.11+: ``Task.cancelling()``, the public count of requests. Python 3.10 has no public way
    to see a request that is not yet delivered (``Task.cancelling`` was added in 3.11 for
    exactly this, bpo-46771), so there, and only there, this reads the two attributes in which
    3.10's ``Task.cancel`` leaves a pending request: ``_must_cancel``, or a cancelled
    ``_fut_waiter``. Were they missing, the answer is False and a caller's cancellation that
    raced ``aclose`` surfaces as the closed-client error instead of a CancelledError.
    """
    if sys.version_info >= (3, 11):
        return task.cancelling() > 0
    waiter = getattr(task, "_fut_waiter", None)
    return bool(getattr(task, "_must_cancel", False)) or (waiter is not None and waiter.cancelled())
