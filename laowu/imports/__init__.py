"""Spreadsheet import (Excel / CSV in, row-by-row error report out) for workstation terminals.

Layers, each usable on its own:

* ``cells``    — what a clerk's cell holds → a clean Python value (full-width digits, Excel serial dates,
  ID numbers Excel turned into numbers, trailing spaces…); raises ``CellError`` with Chinese text.
* ``source``   — a file on disk → sheets of raw rows, streamed (openpyxl ``read_only``; ``csv`` with
  UTF-8 / UTF-8-BOM / GBK detection).
* ``sheet``    — what a sheet kind is (its columns and header aliases), finding the header row.
* ``workers``  — the worker-registration sheet kind: row → ``WorkerCreate`` → ``Intake.register_worker``.
* ``pipeline`` — generic streaming loop: header, chunks of 500 rows, publish, record issues and progress.
  A second sheet kind (the dispatch list) plugs in by providing a ``SheetKind`` and a ``RowProcessor``.
* ``service``  — the real sink (issues sealed + progress → PostgreSQL, valid rows → the publisher) and the
  background task behind ``POST /v1/imports/workers``.
* ``workbook`` — the registration template and the error report (``errors.xlsx``).
* ``cli``      — ``import_workers(path, api_url, workstation_id)``: upload + progress bar.
"""
