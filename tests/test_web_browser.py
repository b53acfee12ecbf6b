"""The course pages in a real browser (Debian's Chromium driven by Playwright) against the real server.

Every page is loaded offline (any non-loopback request fails the test): the home page's ladder, and every
page working under the Content-Security-Policy. The chapters' figures have their own tests
(tests/test_chapter_N.py; chapters 1-2 hold the first seed's demos). Screenshots go to test-artifacts/.
"""


import browser
import pytest
from browser import doc_screenshot
from playwright.sync_api import expect

# the shared fixtures (tests/browser.py): offline Chromium, the real server, a watched tab
browser_context, server, page = browser.browser_context, browser.server, browser.page


def test_home_page_is_the_ladder_of_rungs(page):
    from gradschool import rungs
    from gradschool.lessons import lessons

    page.goto(page.base + "/")
    items = page.locator("main ol.ladder > li")
    expect(items).to_have_count(len(rungs.RUNGS))
    for i, n in enumerate(sorted(rungs.RUNGS)):
        expect(items.nth(i)).to_contain_text(f"gradschool rung {n}")
    for n, lesson in lessons().items():
        expect(page.locator("main").get_by_role("link", name=f"{n} · {lesson.title}")).to_be_visible()
    expect(page.locator("header nav a")).to_have_count(1 + len(lessons()))  # home, then every chapter
    doc_screenshot(page, "0-home")


WATCH_CSP = ("window.cspViolations = [];"
             "document.addEventListener('securitypolicyviolation',"
             "  e => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));")


def test_every_page_works_under_the_content_security_policy(page):
    from gradschool.lessons import lessons

    page.add_init_script(WATCH_CSP)
    # each page's sign that its scripts ran under the Content-Security-Policy: every figure drew something
    works = {"/": "header nav a", **{f"/chapter/{n}": ".figure[data-figure] > *" for n in lessons()}}
    for path, sign in works.items():
        response = page.goto(page.base + path)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        expect(page.locator(sign).first).not_to_be_empty()
        if path == "/chapter/2":
            expect(page.locator('[data-figure="training"] .status')).to_be_empty()  # the websocket answered
        assert page.evaluate("window.cspViolations") == [], path
    # The watch does see a violation: an inline style attribute is refused.
    page.expected_console.append("Content Security Policy")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    page.wait_for_function("window.cspViolations.length > 0")
    assert "style-src" in page.evaluate("window.cspViolations")[0]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_chapter_fits_a_400px_screen_in_light_and_dark(page, scheme):
    from gradschool.lessons import lessons

    page.set_viewport_size({"width": 400, "height": 800})
    page.emulate_media(color_scheme=scheme)
    for rung in lessons():
        page.goto(page.base + f"/chapter/{rung}")
        page.locator(".figure[data-figure] > *").first.wait_for()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"chapter {rung} is {width} px wide at 400 px"
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert (background == "rgb(22, 23, 27)") == (scheme == "dark"), (rung, background)  # course.css --bg
