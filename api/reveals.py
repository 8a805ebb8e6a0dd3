"""Breaking the glass (reveal) within a daily quota per credential (``LAOWU_REVEAL_QUOTA_PER_DAY``).

The route limit (``api.ratelimit``, class ``reveal``) bounds how fast; this bounds how much: past the quota a
credential gets 429 until local midnight (Asia/Shanghai), with a reason a clerk can read. The count lives in
PostgreSQL (``laowu.store.reveals``), shared by every replica. Both the reveal and the refused attempt are written
to the audit log before anything is answered (break-the-glass rule: audit first).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from api import auditing
from laowu.store import reveals
from schemas.common import Actor


class QuotaExceeded(Exception):
    """429: the credential has used its reveals for today."""

    def __init__(self, quota: int, verdict: reveals.Verdict) -> None:
        super().__init__(f"daily reveal quota of {quota} used")
        self.quota, self.verdict = quota, verdict

    def response(self) -> JSONResponse:
        v = self.verdict
        return JSONResponse(status_code=429, headers={"Retry-After": str(v.retry_after_s)}, content={"detail": [{
            "loc": ["header", "authorization"],
            "msg": f"this credential has used its {self.quota} reveals for today; the count starts again at "
                   f"{v.resets_at} (Asia/Shanghai midnight)",
            "msg_zh": f"本账号今日查看完整身份信息已达上限（{self.quota}次），北京时间零点后恢复",
            "type": "reveal_quota_exceeded",
            "ctx": {"quota": self.quota, "used": v.used, "resets_at": v.resets_at},
        }]})


async def admit(request: Request, actor: Actor, worker_id: str, purpose: str) -> None:
    """Audit the reveal (or its refusal) first; :class:`QuotaExceeded` past the credential's quota for today."""
    quota = request.app.state.settings.reveal_quota_per_day
    verdict = await reveals.spend(request.app.state.pool, **auditing.identity(request, actor), quota=quota,
                                  worker_id=worker_id, purpose=purpose)
    if not verdict.allowed:
        raise QuotaExceeded(quota, verdict)
