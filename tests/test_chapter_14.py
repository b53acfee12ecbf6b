"""Chapter 14, tokenization: the tokens and merges figures against gradschool.data.bpe, in Chromium too."""

import browser
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from gradschool.figures.tokens import merges_figure, shakespeare_tokenizer, tokens_figure
from gradschool.web.app import create_app

# the shared fixtures (tests/browser.py): offline Chromium, the real server, a watched tab
browser_context, server, page = browser.browser_context, browser.server, browser.page
client = TestClient(create_app(), base_url="http://127.0.0.1:8000")


def test_the_tokens_api_is_the_tokenizers_own_encoding():
    text = "To be, or not to be: 1599 ducats 👋"
    r = client.post("/api/figure/tokens", json={"text": text, "vocab_size": 512, "pattern": "gpt4"})
    assert r.status_code == 200
    tok = shakespeare_tokenizer(512, "gpt4")
    assert [t["id"] for t in r.json()["tokens"]] == tok.encode(text)
    assert b"".join(bytes(t["bytes"]) for t in r.json()["tokens"]) == text.encode("utf-8")
    assert r.json()["round_trip"] and r.json()["bytes"] == len(text.encode("utf-8"))
    for bad in [{"vocab_size": 300}, {"pattern": "none"}, {"text": "x" * 501}, {"extra": 1}]:
        r = client.post("/api/figure/tokens", json=bad)
        assert r.status_code == 422 and "Input should" not in r.json()["detail"], r.json()


def test_the_merges_api_is_the_tokenizers_merge_table():
    r = client.post("/api/figure/merges", json={"vocab_size": 512, "start": 10, "count": 5}).json()
    tok = shakespeare_tokenizer(512, "gpt4")
    assert [(m["left"], m["right"]) for m in r["merges"]] == tok.merges[10:15]
    assert all(m["text"] == tok.token_text(m["id"]) for m in r["merges"]) and r["total"] == 256
    assert [m["id"] for m in r["merges"]] == list(range(266, 271))


def test_chapter14_colours_the_tokens_of_a_typed_text_and_pages_the_merges(page):
    page.goto(page.base + "/chapter/14")
    tokens = page.locator(".figure[data-figure=tokens]")
    box = tokens.get_by_label("text to cut into tokens")
    box.fill("In 1599, the king")
    want = tokens_figure("In 1599, the king", 512, "gpt4")["tokens"]
    expect(tokens.locator(".token")).to_have_count(len(want))
    assert tokens.locator(".token .id").all_inner_texts() == [str(t["id"]) for t in want]
    tokens.get_by_label("vocabulary size").select_option("4096")
    bigger = tokens_figure("In 1599, the king", 4096, "gpt4")["tokens"]
    expect(tokens.locator(".token")).to_have_count(len(bigger))
    assert tokens.locator(".token .id").all_inner_texts() == [str(t["id"]) for t in bigger]
    expect(tokens.locator(".readout")).to_contain_text(f"{len(bigger)} tokens")
    browser.doc_screenshot(page, "chapter-14", at=tokens)

    merges = page.locator(".figure[data-figure=merges]")
    rows = merges.locator("table.merges tr")
    expect(rows).to_have_count(16)  # a head and 15 merges
    first = merges_figure(512, "gpt4", 0, 15)["merges"]
    assert rows.nth(1).locator("td").first.inner_text() == str(first[0]["id"])
    merges.get_by_role("button", name="later →").click()
    expect(merges.locator("output")).to_contain_text("merges 16–30 of 256")
    later = merges_figure(512, "gpt4", 15, 15)["merges"]
    expect(rows.nth(1).locator("td").first).to_have_text(str(later[0]["id"]))
    link = page.url
    page.goto(page.base + "/")
    page.goto(link)  # the link reproduces both figures' state
    expect(page.locator(".figure[data-figure=merges] output")).to_contain_text("merges 16–30")
    expect(page.locator(".figure[data-figure=tokens] .token")).to_have_count(len(bigger))
