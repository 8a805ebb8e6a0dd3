"""Spreadsheet import (Excel / CSV in, row-by-row error report out) for workstation terminals.

Layers, each usable on its own:

* ``cells``    — what a clerk's cell holds → a clean Python value (full-width digits, Excel serial dates,
  ID numbers Excel turned into numbers, trailing spaces…); raises ``CellError`` with Chinese text.
* ``source``   — a file on disk → sheets of raw rows, streamed (openpyxl ``read_only``; ``csv`` with
  UTF-8 / UTF-8-BOM / GBK detection).
* ``sheet``    — what a sheet kind is (its columns and header aliases), finding the header row.
* ``workers``  — the worker-registration sheet kind: row → ``WorkerCreate`` → the ``RegisterWorker`` handler
  (``laowu.application``, as ``POST /v1/workers``).
* ``dispatch`` — the dispatch-list sheet kind (派遣名单): a 派遣信息 block of label/value rows above a table of
  ID numbers → one dispatch (the ``CreateDispatch`` handler) with the workers that may go.
* ``pipeline`` — generic streaming loop: header, chunks of 500 rows, publish, record issues and progress.
  A sheet kind plugs in by providing a ``SheetKind`` and a ``RowProcessor`` (whose ``start`` sees the rows
  above the header and whose ``end`` may publish one event for the whole sheet).
* ``service``  — the real sink (issues sealed + progress → PostgreSQL, valid rows → the publisher) and the
  background tasks behind ``POST /v1/imports/workers`` and ``POST /v1/imports/dispatch``.
* ``workbook`` — the registration and dispatch-list templates and the error report (``errors.xlsx``).
* ``cli``      — ``import_workers`` / ``import_dispatch(path, api_url, workstation_id)``: upload + progress bar.
"""
