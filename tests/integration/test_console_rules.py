"""The console checks ID numbers as the clerk types (console/src/lib/idNumber.ts, a TypeScript port of
``laowu.domain.identity.parse_id_number``): it must give the API's verdict, rule and Chinese words for every number,
and read the same birth date and sex. Run with Node over a bundle of the console's own module (esbuild, from the
console's lockfile)."""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
from pathlib import Path

from laowu.domain.errors import DomainError
from laowu.domain.identity import id_number_for, parse_id_number

from conftest import REPO

CONSOLE = REPO / "console"
TODAY = datetime.date(2026, 3, 1)

ENTRY = """
import { checkIdNumber } from '%s'
const cases = JSON.parse(process.argv[2])
const today = new Date(2026, 2, 1)
const out = []
for (const raw of cases) {
  const r = await checkIdNumber(raw, today)
  out.push(r.ok ? { ok: true, birth_date: r.info.birthDate, sex: r.info.sex, number: r.info.number }
                : { ok: false, rule: r.rule, message: r.message })
}
console.log(JSON.stringify(out))
"""


def cases() -> list[str]:
    good = [id_number_for(region, born, seq) for region, born, seq in [
        ("469005", datetime.date(1990, 3, 7), 122), ("500101", datetime.date(1985, 2, 28), 31),
        ("110101", datetime.date(2000, 2, 29), 999), ("460105", datetime.date(1900, 1, 1), 0),
        ("810000", datetime.date(1995, 7, 1), 17),  # a Hong Kong residence permit
        ("429004", datetime.date(1970, 12, 31), 500),  # 仙桃市, a province-administered city
        ("512301", datetime.date(1960, 6, 15), 45),  # 涪陵, a code abolished in 1997 that old cards carry
    ]]
    bad = [
        *(n[:17] + ("0" if n[17] != "0" else "1") for n in good[:3]),  # check character
        "46900519900307122", "4690051990030712234", "",  # length
        "46900519900307122A", "4690051990O3071223",  # format
        id_number_for("469005", datetime.date(2026, 3, 2), 1),  # born tomorrow
        id_number_for("469005", datetime.date(1899, 12, 31), 1),  # before 1900
        id_number_for("999999", datetime.date(1990, 1, 1), 1), id_number_for("460199", datetime.date(1990, 1, 1), 1),
    ]
    feb30 = "46900519900230123"
    bad.append(feb30 + _check(feb30))
    typed = [good[0][:6] + " " + good[0][6:], good[2][:17] + good[2][17].lower(), "４６９００５" + good[0][6:]]
    return good + bad + typed


def _check(first17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights, strict=True)) % 11]


def python_verdict(raw: str) -> dict[str, object]:
    try:
        info = parse_id_number(raw, today=TODAY)
    except DomainError as exc:
        return {"ok": False, "rule": exc.rule, "message": exc.message_zh}
    return {"ok": True, "birth_date": info.birth_date.isoformat(), "sex": info.sex, "number": info.number}


def test_the_console_gives_the_api_s_verdict_on_every_id_number(tmp_path: Path) -> None:
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "Node and npm are needed (make system-tools)"
    if not (CONSOLE / "node_modules" / ".bin" / "esbuild").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=CONSOLE, check=True, timeout=600, capture_output=True)
    entry = tmp_path / "entry.ts"
    entry.write_text(ENTRY % (CONSOLE / "src" / "lib" / "idNumber.ts"))
    bundle = tmp_path / "check.mjs"
    subprocess.run([str(CONSOLE / "node_modules" / ".bin" / "esbuild"), str(entry), "--bundle", "--platform=node",
                    "--format=esm", f"--outfile={bundle}", "--log-level=warning"], check=True, timeout=120)
    numbers = cases()
    done = subprocess.run([node, str(bundle), json.dumps(numbers)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    console = json.loads(done.stdout)
    for raw, theirs in zip(numbers, console, strict=True):
        api = python_verdict(raw)
        if api.get("rule") == "length":  # the console also says how many characters are there
            assert theirs["rule"] == "length" and theirs["message"].startswith(str(api["message"])), (raw, theirs)
            continue
        assert theirs == api, raw
    assert sum(v["ok"] for v in console) == 10 and sum(not v["ok"] for v in console) == len(numbers) - 10
