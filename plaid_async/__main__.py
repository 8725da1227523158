"""``python -m plaid_async``: the ``plaid-async`` command (``--version`` works without the
``cli`` extra; everything else needs it, and says so)."""

from plaid_async.cli import main

main()
