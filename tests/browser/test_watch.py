"""The watch that fails a browser test on a console error really sees them (and lets the API's 4xx answers be)."""

from __future__ import annotations

from pathlib import Path

from .conftest import OpenPage, Shot, Watch


async def test_console_errors_exceptions_and_server_errors_are_caught(open_page: OpenPage, watch: Watch, shot: Shot,
                                                                      tmp_path: Path) -> None:
    page = await open_page()
    await page.set_content("<button onclick=\"console.error('坏了')\">错误</button>"
                           "<button onclick=\"null.x\">异常</button><p>中文字体</p>")
    await page.get_by_text("错误").click()
    await page.get_by_text("异常").click()
    await page.wait_for_timeout(100)
    assert len(watch.errors) == 2, watch.errors
    assert "console.error: 坏了" in watch.errors[0]
    assert "uncaught" in watch.errors[1] and "null" in watch.errors[1]
    path = await shot(page, "watch")
    assert path.exists() and path.stat().st_size > 1000
    assert path.parent.name == "test_console_errors_exceptions_and_server_errors_are_caught"
    watch.errors.clear()  # seen: this test is about them


async def test_a_4xx_from_the_api_is_an_answer_not_an_error(open_page: OpenPage, watch: Watch) -> None:
    page = await open_page()

    async def answer(route, request) -> None:  # type: ignore[no-untyped-def]
        status = 401 if "/v1/" in request.url else 404 if "missing" in request.url else 503
        await route.fulfill(status=status, body="{}", content_type="application/json")

    await page.route("http://laowu.test/**", answer)
    await page.goto("http://laowu.test/")  # the 503 page itself
    await page.evaluate("fetch('/v1/auth/login', {method: 'POST'})")
    await page.evaluate("fetch('/missing.js')")
    await page.wait_for_timeout(200)
    assert any("server error: 503" in e for e in watch.errors), watch.errors
    assert any("404" in e for e in watch.errors), watch.errors
    assert not any("401" in e for e in watch.errors), watch.errors
    watch.errors.clear()
