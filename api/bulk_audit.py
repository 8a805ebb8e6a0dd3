"""Bulk reads go to the audit log (PIPL: who exported what, from where), before a byte of them is sent.

Exports (``export.workers``, ``export.stats``) and an import's error report (``import.errors``, full ID numbers as
uploaded) are each one audit entry, as a reveal is: the actor, role and organisation of the credential, the client
address (``api.proxies``: the client, not the proxy) and what was read — filters and row counts, never an ID
number or a phone. The file is built first (the count is known only then) but sent only once the entry is
committed: if the audit log cannot be written, nothing is sent (break-the-glass rule: audit first).
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import Request

from api import auditing
from schemas.common import Actor


async def audited(request: Request, actor: Actor, path: str, action: str, detail: dict[str, Any]) -> None:
    """Write the entry for the file at ``path``; if that fails, the file is deleted and the error propagates."""
    try:
        await auditing.record(request, actor, action, detail=detail)
    except BaseException:
        os.unlink(path)
        raise
