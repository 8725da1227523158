"""``python -m plaid_async.cli``: the same as the ``plaid-async`` console script."""

from plaid_async.cli import main

main()
