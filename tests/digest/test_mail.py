"""`listener digest --send` through a real SMTP server (aiosmtpd on loopback), and the received HTML opened in a
real headless Chromium: the MIME shape, inert hostile text, decodable charts, nothing wider than 600 pixels."""

from __future__ import annotations

import base64
import re
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from listener.cli import cli
from listener.demo.servers import SmtpSink
from listener.store.engine import Store, upgrade
from tests.browser import launch, needs_chromium, screenshot_folder
from tests.digest_seed import HOSTILE, seed, write_config

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def config(tmp_path: Path, smtp_sink: SmtpSink) -> Path:
    url = f"sqlite:///{tmp_path / 'listener.db'}"
    store = Store(url)
    upgrade(store)
    seed(store)
    store.dispose()
    return write_config(tmp_path, url, smtp_sink.port)


def send(config: Path, lang: str) -> None:
    result = CliRunner().invoke(cli, ["-c", str(config), "digest", "--week", "2026-W48", "--lang", lang, "--send"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "digest 2026-W48 sent to marketing@acme.example" in result.output


def parts(email: EmailMessage) -> tuple[str, str, dict[str, bytes]]:
    """(text, html, {content-id: png}) of a digest, asserting its MIME structure on the way."""
    assert email.get_content_type() == "multipart/alternative"
    text_part, related = list(email.iter_parts())
    assert text_part.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, *images = list(related.iter_parts())  # type: ignore[attr-defined]
    assert html_part.get_content_type() == "text/html"
    pngs = {}
    for image in images:
        assert image.get_content_type() == "image/png"
        pngs[image["Content-ID"].strip("<>")] = image.get_payload(decode=True)
    return text_part.get_content(), html_part.get_content(), pngs


def test_send_builds_alternative_text_and_related_html_with_every_chart(config: Path, smtp_sink: SmtpSink) -> None:
    send(config, "en")
    (email,) = smtp_sink.messages
    assert smtp_sink.envelopes[0] == ("listener@acme.example", ["marketing@acme.example"])
    assert str(email["Subject"]) == "Weekly digest Acme: Week 48, 2026"
    text, html, pngs = parts(email)
    cids = re.findall(r'src="cid:([^"]+)"', html)
    assert sorted(cids) == sorted(pngs) and len(cids) == 3  # volume, share of voice, trend
    for png in pngs.values():
        assert png.startswith(PNG_SIGNATURE) and len(png) > 2000
    for alt in re.findall(r'<img [^>]*alt="([^"]*)"', html):
        assert len(alt) > 40  # the chart's numbers in words, for blocked images and screen readers
    # The same numbers in both parts.
    for figure in ("1,000", "+197 (+1,970%)", "77%", "Mentions of Acme up 150% to 10"):
        assert figure in text and figure in html
    # Hostile mention text arrives as text: escaped in HTML, no javascript: link anywhere.
    assert "<script>" not in html and "<img src=x" not in html and "javascript:" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert HOSTILE in text


@needs_chromium
def test_received_digest_renders_in_chromium(config: Path, smtp_sink: SmtpSink, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    send(config, "de")
    send(config, "en")
    shots = screenshot_folder(tmp_path)
    with sync_playwright() as p:
        browser = launch(p)
        try:
            for lang, email in zip(("de", "en"), smtp_sink.messages, strict=True):
                _, html, pngs = parts(email)
                # What a mail client does with cid: references: show the attached part.
                for cid, png in pngs.items():
                    html = html.replace(f"cid:{cid}", "data:image/png;base64," + base64.b64encode(png).decode())
                page = browser.new_page(viewport={"width": 640, "height": 900})
                page.set_content(html)
                images = page.eval_on_selector_all(
                    "img", "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight, e.width])")
                assert len(images) == 3
                for complete, natural_width, natural_height, shown_width in images:
                    assert complete and natural_width == 1120 and natural_height == 440 and shown_width <= 560
                overflow = page.evaluate("""() => {
                    const column = document.getElementById('digest').getBoundingClientRect();
                    const bad = [];
                    for (const el of document.querySelectorAll('#digest *')) {
                        const box = el.getBoundingClientRect();
                        if (box.width === 0) continue;
                        if (box.right > column.right + 0.5 || box.left < column.left - 0.5
                            || el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
                            bad.push(el.tagName + ': ' + el.textContent.slice(0, 60));
                    }
                    return [column.width, bad];
                }""")
                assert overflow == [600, []]
                page.screenshot(path=str(shots / f"digest-{lang}.png"), full_page=True)
                page.close()
        finally:
            browser.close()
    assert (shots / "digest-de.png").stat().st_size > 50_000 and (shots / "digest-en.png").stat().st_size > 50_000
