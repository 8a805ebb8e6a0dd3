"""Files we hand out in bulk (exports, error reports) built in a child process, from pages the event loop reads.

Rendering a workbook is CPU work: 0.3 s per 2,000 rows on the event loop stalled every other request of the process,
``/healthz`` included. A thread is not enough either: openpyxl is pure Python, and a builder thread holding the GIL
still kept ``/healthz`` waiting 100-200 ms. So the event loop only reads pages from PostgreSQL (asynchronously, one
page at a time) and pipes them, pickled, to ``python -m api.books``, which masks, renders and writes the file on
another core. The pipe's back-pressure keeps at most a page or two in flight: memory does not grow with the row
count on either side. The response then streams the finished file (``FileResponse``) and deletes it.

A request that goes away kills its child and deletes the file.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import sys
import tempfile
from collections.abc import AsyncIterator
from typing import Any


class BuildFailed(RuntimeError):
    """The child could not write the file (a bug, or the machine out of memory or disk)."""


async def build(book: str, params: Any, pages: AsyncIterator[list[Any]] | None = None, *,
                suffix: str = ".xlsx") -> tuple[str, int]:
    """The workbook ``book`` (``api.books.BOOKS``) from ``params`` and ``pages``: its temp path and the rows sent.

    The caller owns the file (deletes it once sent); on any failure it is already deleted.
    """
    fd, path = tempfile.mkstemp(prefix="laowu-export-", suffix=suffix)
    os.close(fd)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api.books", book, path,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
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
