"""Files we hand out in bulk (exports, error reports) built in a child process, from pages the event loop reads.

Rendering a workbook is CPU work: 0.3 s per 2,000 rows on the event loop stalled every other request of the process,
``/healthz`` included. A thread is not enough either: openpyxl is pure Python, and a builder thread holding the GIL
still kept ``/healthz`` waiting 100-200 ms. So the event loop only reads pages from PostgreSQL (asynchronously, one
page at a time) and pipes them, pickled, to ``python -m api.books``, which masks, renders and writes the file on
another core. The pipe's back-pressure keeps at most a page or two in flight: memory does not grow with the row
count on either side. The response then streams the finished file (``FileResponse``) and deletes it.

A cancelled build (the server shutting down) kills its child and deletes the file. At most ``MAX_BUILDS`` children
per API process run at once (the rest wait their turn): each is a Python process of its own, and the machine has
only so many cores.
The child gets no secrets: it renders what it is sent and needs no key, database or broker.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import sys
import tempfile
import weakref
from collections.abc import AsyncIterator
from typing import Any

MAX_BUILDS = 4
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()
_SECRET_ENV = ("LAOWU_", "DATABASE_URL", "KAFKA_")


def _slot() -> asyncio.Semaphore:
    """This event loop's builder slots (a semaphore belongs to one loop; tests run several)."""
    loop = asyncio.get_running_loop()
    slot = _slots.get(loop)
    if slot is None:
        slot = _slots[loop] = asyncio.Semaphore(MAX_BUILDS)
    return slot


def _child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(_SECRET_ENV)}


class BuildFailed(RuntimeError):
    """The child could not write the file (a bug, or the machine out of memory or disk)."""


async def build(book: str, params: Any, pages: AsyncIterator[list[Any]] | None = None, *,
                suffix: str = ".xlsx") -> tuple[str, int]:
    """The workbook ``book`` (``api.books.BOOKS``) from ``params`` and ``pages``: its temp path and the rows sent.

    The caller owns the file (deletes it once sent); on any failure it is already deleted.
    """
    async with _slot():
        return await _build(book, params, pages, suffix)


async def _build(book: str, params: Any, pages: AsyncIterator[list[Any]] | None, suffix: str) -> tuple[str, int]:
    fd, path = tempfile.mkstemp(prefix="laowu-export-", suffix=suffix)
    os.close(fd)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api.books", book, path,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        env=_child_env(), cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert proc.stdin is not None and proc.stderr is not None
    errors = asyncio.create_task(proc.stderr.read())  # read as it comes: a full stderr pipe would stall the child
    rows = 0
    try:
        try:
            proc.stdin.write(pickle.dumps(params, protocol=pickle.HIGHEST_PROTOCOL))
            if pages is not None:
                async for page in pages:
                    proc.stdin.write(pickle.dumps(page, protocol=pickle.HIGHEST_PROTOCOL))
                    rows += len(page)
                    await proc.stdin.drain()  # waits while the child is a page behind
            await proc.stdin.drain()
            proc.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the child died: its exit status and stderr say why
        code = await proc.wait()
        tail = (await errors).decode(errors="replace")[-500:]
        if code != 0:
            raise BuildFailed(f"building {book} failed (exit {code}): {tail}")
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        errors.cancel()
        os.unlink(path)
        aclose = getattr(pages, "aclose", None)
        if aclose is not None:
            await aclose()  # releases a connection the page iterator may hold
        raise
    return path, rows
