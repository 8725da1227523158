"""Every ```python block of the docs and the README runs here, against the emulator.

So the docs cannot drift from the code. The rules a block is written to (also in
``CONTRIBUTING.md``, "Writing the docs"):

- A ```` ```python ```` block runs; any other fence (```` ```sh ````, ```` ```text ````,
  ```` ```pycon ````) is shown only. A fragment that cannot run is not ``python``.
- Each block runs alone, in a fresh namespace that holds the names of :data:`PROVIDED`: the
  reader's own values (``client_id``, ``access_token``, ``tokens``, ...), an open ``client``,
  and recording stand-ins for the reader's functions (``store``, ``log_failure``, ...).
- ``PLAID_CLIENT_ID``, ``PLAID_SECRET`` and ``PLAID_BASE_URL`` point at the emulator, and so do
  ``environment="sandbox"`` and ``environment="production"`` (and plaid-python's hosts), so a
  block can be written as a reader would write it.
- Top-level ``await`` and ``async with`` work. A block without them runs in a worker thread, so
  blocking code (plaid-python, ``asyncio.run(main())``) can reach the emulator on this loop.
- A block that defines ``test_*`` functions has each called, with its arguments taken from the
  namespace (``plaid_sandbox``, ``plaid_client``), as pytest would.
- A ``PlaidClient`` left open in the namespace is closed after the block.
- A block whose first line is a comment naming a file (``# tests/test_balances.py``) is a file of
  the reader's project: a page's such blocks are written out together and run by pytest in a
  fresh process, with pytest-asyncio's auto mode (the README's: its default strict mode) and
  the plugin the package installs, as the reader's own suite would run them. Every test they
  define must pass.

A failing block fails its own test, named ``docs/page.md:LINE``, and its traceback points at the
line of the page.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import certifi
import plaid
import pytest

from plaid_async import PlaidClient, _config
from plaid_async.sandbox import SandboxServer
from plaid_async.sandbox.pytest_plugin import FAST_TIMEOUTS, fast_retry

ROOT = Path(__file__).resolve().parent.parent
PAGES = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
BLOCK_TIMEOUT = 60.0
"""Seconds a block may take: far more than any needs, so a hang fails instead of stalling."""

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it starts (the line after the fence) and what it holds."""

    path: str
    line: int
    language: str
    source: str

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}"


def blocks_of(text: str, path: str) -> Iterator[Block]:
    """The fenced blocks of a Markdown page, de-indented (a block may sit in a list item)."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        i += 1
        if opening is None:
            continue
        indent, fence = opening["indent"], opening["fence"]
        language = (opening["info"].split() or [""])[0].lower()
        start, body = i, []
        while i < len(lines) and not (
            lines[i].strip().startswith(fence) and lines[i].strip().strip(fence[0]) == ""
        ):
            line = lines[i]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            i += 1
        i += 1  # the closing fence
        yield Block(path, start + 1, language, "\n".join(body) + "\n")


def python_blocks() -> list[Block]:
    found = []
    for page in PAGES:
        relative = page.relative_to(ROOT).as_posix()
        found += [b for b in blocks_of(page.read_text("utf-8"), relative) if b.language == "python"]
    return found


_FILE_HEADER = re.compile(r"#\s*(?P<path>[\w-]+(?:/[\w-]+)*\.py)\s*")


def file_of(block: Block) -> str | None:
    """The project file a block stands for (its first line names it), or None."""
    first = block.source.partition("\n")[0]
    match = _FILE_HEADER.fullmatch(first)
    return match["path"] if match else None


class Recorder:
    """A stand-in for one of the reader's functions: records each call; works with or
    without ``await``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Recorder:
        self.calls.append((args, kwargs))
        return self

    def __await__(self) -> Iterator[None]:
        yield from ()

    def __repr__(self) -> str:
        return f"<stand-in for {self.name}(), {len(self.calls)} calls>"


STAND_INS = (
    "store",
    "log_failure",
    "save_balances",
    "record_failure",
    "ask_user_to_relink",
    "retry_tomorrow",
    "mark_needs_relink",
)
"""The reader's own functions that examples call; each is a :class:`Recorder`."""


async def namespace_for(
    sandbox: SandboxServer, client: PlaidClient, redis_url: str = ""
) -> dict[str, Any]:
    access_token = sandbox.token(1)
    resp = await client.accounts_get(access_token)
    assert resp.item is not None

    async def load_access_token(user_id: object) -> str:
        return access_token

    namespace: dict[str, Any] = {
        "__name__": "__docs__",
        "client_id": sandbox.client_id,
        "secret": sandbox.secret,
        "access_token": access_token,
        "token": access_token,
        "other_token": sandbox.error_token("ITEM_LOGIN_REQUIRED"),
        "item_id": resp.item.item_id,
        "tokens": [sandbox.token(n) for n in range(20)],
        "client": client,
        "plaid_client": client,
        "plaid_sandbox": sandbox,
        "load_access_token": load_access_token,
        "corp_ca_file": certifi.where(),
        "log": logging.getLogger("docs.example"),
        "redis_url": redis_url,
    }
    namespace.update({name: Recorder(name) for name in STAND_INS})
    return namespace


def compile_block(block: Block) -> Any:
    """The block's code object, compiled with its page's name and line numbers."""
    padded = "\n" * (block.line - 1) + block.source
    return compile(padded, block.path, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


async def run_block(block: Block, namespace: dict[str, Any]) -> None:
    """Execute one block in ``namespace``; then its ``test_*`` functions; then close the
    clients it left open."""
    code = compile_block(block)
    try:
        if code.co_flags & inspect.CO_COROUTINE:
            await asyncio.wait_for(eval(code, namespace), BLOCK_TIMEOUT)  # noqa: S307
        else:
            await asyncio.wait_for(asyncio.to_thread(exec, code, namespace), BLOCK_TIMEOUT)
        for name, func in list(namespace.items()):
            if name.startswith("test_") and callable(func):
                await asyncio.wait_for(_call_test(func, namespace), BLOCK_TIMEOUT)
    finally:
        for value in list(namespace.values()):
            if isinstance(value, PlaidClient):
                await value.aclose()


async def _call_test(func: Callable[..., Any], namespace: dict[str, Any]) -> None:
    arguments = {name: namespace[name] for name in inspect.signature(func).parameters}
    result = func(**arguments)
    if inspect.isawaitable(result):
        await result


@pytest.fixture
async def docs_namespace(
    plaid_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> dict[str, Any]:
    """The namespace of a block, with the environment pointed at ``plaid_sandbox``."""
    url = plaid_sandbox.url
    monkeypatch.setenv("PLAID_CLIENT_ID", plaid_sandbox.client_id)
    monkeypatch.setenv("PLAID_SECRET", plaid_sandbox.secret)
    monkeypatch.setenv("PLAID_BASE_URL", url)
    monkeypatch.delenv("PLAID_ENV", raising=False)
    monkeypatch.setattr(_config, "ENVIRONMENTS", {"sandbox": url, "production": url})
    monkeypatch.setattr(plaid.Environment, "Sandbox", url)
    monkeypatch.setattr(plaid.Environment, "Production", url)
    client = plaid_sandbox.client(retry=fast_retry(), timeouts=FAST_TIMEOUTS)
    return await namespace_for(plaid_sandbox, client, redis_url)


BLOCKS = [b for b in python_blocks() if file_of(b) is None]
PROJECTS: dict[str, list[Block]] = {}
for _block in python_blocks():
    if file_of(_block) is not None:
        PROJECTS.setdefault(_block.path, []).append(_block)

_PROJECT_INI = """\
[pytest]
asyncio_mode = {mode}
asyncio_default_fixture_loop_scope = function
pythonpath = .
addopts = --strict-markers -p no:cacheprovider
"""
STRICT_MODE_PAGES = frozenset({"README.md"})
"""Pages whose project files must pass in pytest-asyncio's default strict mode, as pasted into
a new project; the others' run in auto mode (and say what strict mode needs)."""


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
async def test_doc_block(block: Block, docs_namespace: dict[str, Any]) -> None:
    await run_block(block, docs_namespace)


@pytest.mark.parametrize("page", sorted(PROJECTS))
def test_doc_project(page: str, pytester: pytest.Pytester) -> None:
    """A page's project files, run by pytest as the reader's suite: every test passes."""
    tests = 0
    for block in PROJECTS[page]:
        path = pytester.path / str(file_of(block))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block.source, encoding="utf-8")
        if path.name.startswith("test_"):
            tests += len(re.findall(r"^(?:async )?def test_", block.source, re.M))
    mode = "strict" if Path(page).name in STRICT_MODE_PAGES else "auto"
    pytester.makeini(_PROJECT_INI.format(mode=mode))
    result = pytester.runpytest_subprocess()
    assert tests > 0
    result.assert_outcomes(passed=tests)


# -- the harness itself ---------------------------------------------------------------------

_PAGE = """\
# A page

```sh
pip install plaid-async
```

- A list item:

  ```python
  x = 1
  ```

~~~python title="two"
y = await f()
~~~
"""


def test_blocks_of_finds_fences_languages_and_lines() -> None:
    found = list(blocks_of(_PAGE, "docs/page.md"))
    assert [(b.language, b.line, b.source) for b in found] == [
        ("sh", 4, "pip install plaid-async\n"),
        ("python", 10, "x = 1\n"),
        ("python", 14, "y = await f()\n"),
    ]


def test_file_blocks_are_told_from_snippets() -> None:
    assert file_of(Block("p.md", 1, "python", "# tests/test_x.py\nimport x\n")) == "tests/test_x.py"
    assert file_of(Block("p.md", 1, "python", "# myapp/balances.py\n")) == "myapp/balances.py"
    assert file_of(Block("p.md", 1, "python", "# the reader's code\nx = 1\n")) is None
    assert file_of(Block("p.md", 1, "python", "x = 1  # tests/test_x.py\n")) is None


def test_the_docs_have_python_blocks_on_every_guide() -> None:
    pages_with_code = {b.path for b in BLOCKS}
    for page in ("README.md", "docs/getting-started.md", "docs/web-app.md", "docs/migrating.md"):
        assert page in pages_with_code
    assert "docs/testing.md" in PROJECTS


async def test_a_failing_block_names_its_page_and_line() -> None:
    block = Block("docs/page.md", 41, "python", "x = 1\nraise RuntimeError('from the page')\n")
    with pytest.raises(RuntimeError) as info:
        await run_block(block, {})
    last = info.traceback[-1]
    assert (str(last.path), last.lineno + 1) == ("docs/page.md", 42)


async def test_async_blocks_await_and_test_functions_are_called() -> None:
    source = (
        "import asyncio\nawait asyncio.sleep(0)\nseen = []\n"
        "async def test_it(marker):\n    seen.append(marker)\n"
    )
    namespace: dict[str, Any] = {"marker": "called"}
    await run_block(Block("docs/page.md", 1, "python", source), namespace)
    assert namespace["seen"] == ["called"]


async def test_a_block_that_fails_inside_a_test_function_fails() -> None:
    source = "def test_it():\n    assert False, 'the example is wrong'\n"
    with pytest.raises(AssertionError, match="the example is wrong"):
        await run_block(Block("docs/page.md", 1, "python", source), {})


async def test_blocks_without_await_run_off_the_loop() -> None:
    source = "import asyncio\nasyncio.run(asyncio.sleep(0))\ndone = True\n"
    namespace: dict[str, Any] = {}
    await run_block(Block("docs/page.md", 1, "python", source), namespace)
    assert namespace["done"] is True


async def test_open_clients_are_closed_after_a_block(plaid_sandbox: SandboxServer) -> None:
    source = "c = PlaidClient('id', 'secret', base_url=url)\nawait c.accounts_get(token)\n"
    namespace: dict[str, Any] = {"PlaidClient": PlaidClient, "url": plaid_sandbox.url}
    namespace["token"] = plaid_sandbox.token(1)
    with pytest.raises(Exception, match="INVALID_API_KEYS"):
        await run_block(Block("docs/page.md", 1, "python", source), namespace)
    assert namespace["c"].closed


async def test_every_provided_name_is_documented(docs_namespace: dict[str, Any]) -> None:
    text = (ROOT / "CONTRIBUTING.md").read_text("utf-8")
    notes = text[text.index("## Writing the docs") :]
    missing = [n for n in docs_namespace if not n.startswith("__") and f"`{n}" not in notes]
    assert missing == []


def test_pages_with_top_level_await_say_how_to_run_it() -> None:
    """A reader who pastes a block with top-level ``await`` into ``python`` gets a SyntaxError:
    every page with one says to use ``python -m asyncio`` (or ``asyncio.run``)."""
    pages = set()
    for block in python_blocks():
        try:
            compile(block.source, block.path, "exec")
        except SyntaxError:  # 'await' outside function
            pages.add(block.path)
    assert {"README.md", "docs/getting-started.md", "docs/many-items.md"} <= pages
    silent = [p for p in sorted(pages) if "python -m asyncio" not in (ROOT / p).read_text("utf-8")]
    assert silent == []


def test_the_readme_pytest_example_runs_in_strict_mode_and_batches_are_closed() -> None:
    """The README's test is a project file, run in pytest-asyncio's default strict mode (by
    :func:`test_doc_project`); every batch in a README example is closed with
    ``contextlib.aclosing`` (leaving the loop early then cancels the calls in flight at once)."""
    assert "README.md" in PROJECTS
    assert any("@pytest.mark.asyncio" in block.source for block in PROJECTS["README.md"])
    unclosed = [
        block.id
        for block in python_blocks()
        if block.path == "README.md"
        and re.search(r"async for \w+ in \w+\.accounts_(balance_)?get_many\(", block.source)
    ]
    assert unclosed == []


def test_the_home_page_is_for_users_and_lists_every_guide() -> None:
    """Contributor rules live in CONTRIBUTING.md; "Where to go next" names every page of the
    nav, whose order leads with the guides by job."""
    index = (ROOT / "docs" / "index.md").read_text("utf-8")
    assert "## Writing" not in index
    assert "## Writing the docs" in (ROOT / "CONTRIBUTING.md").read_text("utf-8")
    where = index[index.index("## Where to go next") :]
    pages = sorted(p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md"))
    missing = [p for p in pages if p != "index.md" and f"({p})" not in where]
    assert missing == []
    nav = re.findall(r":\s*([\w/-]+\.md)$", (ROOT / "mkdocs.yml").read_text("utf-8"), re.M)
    assert nav[:8] == [
        "index.md",
        "getting-started.md",
        "many-items.md",
        "cli.md",
        "web-app.md",
        "event-consumer.md",
        "testing.md",
        "scaling-out.md",
    ]
    assert nav[-1] == "performance.md"
    assert sorted(nav) == pages


def test_stand_ins_record_with_and_without_await() -> None:
    store = Recorder("store")
    store(1, response=None)
    assert store.calls == [((1,), {"response": None})]
    assert list(store.__await__()) == []
