"""The outage week's digest mailed through a real SMTP server (aiosmtpd on loopback) and the received HTML opened
in a real Chromium as a phone and a desktop show it: no horizontal overflow at 320 and 390 pixels, 600 pixels on
the desktop, readable in dark mode and with images blocked, every figure of the text part in the HTML's text,
mention text inert, the deployment's category names. Screenshots go to $LISTENER_SCREENSHOTS (or the test's
tmp dir) to be looked at."""

from __future__ import annotations

import base64
import re
from collections import Counter
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from listener.cli import cli
from listener.demo.servers import SmtpSink
from tests.browser import launch, needs_chromium, screenshot_folder
from tests.digest_week import HOSTILE, stored_week

NAMES = 'category_names = { delivery = "Pünktlichkeit", digital = "Online-Banking" }\n'
# what a reader takes for a figure: counts, shares, points, ratios, stars, times, dates
FIGURE = re.compile(r"[+−±]?\d[\d.,:]*(?:\s?(?:%|Pkt\.|pts|×|Mio\.|m\b))?")
URL = re.compile(r"https?://\S+")


@pytest.fixture(scope="module")
def mailed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, EmailMessage]:
    """The W48 digest in German and English, as received by the SMTP server (once for the module's tests)."""
    tmp = tmp_path_factory.mktemp("week")
    with SmtpSink() as sink:
        config, _ = stored_week(tmp, f"sqlite:///{tmp / 'listener.db'}", sink.port, NAMES)
        for lang in ("de", "en"):
            result = CliRunner().invoke(cli, ["-c", str(config), "digest", "--week", "2026-W48", "--lang", lang,
                                              "--send"], catch_exceptions=False)
            assert result.exit_code == 0, result.output
        assert sink.envelopes == [("listener@acme.example", ["marketing@acme.example"])] * 2
        assert [m["Subject"] for m in sink.messages] == ["Wochenbericht Acme: KW 48/2026",
                                                        "Weekly digest Acme: Week 48, 2026"]
        return dict(zip(("de", "en"), sink.messages, strict=True))


def parts(email: EmailMessage) -> tuple[str, str]:
    """(text, html) of a digest, with the attached charts put where the HTML references them (as a mail client
    shows cid: images)."""
    text_part, related = list(email.iter_parts())
    html_part, *images = list(related.iter_parts())  # type: ignore[attr-defined]
    html = html_part.get_content()
    assert len(images) == 3  # Acme's volume, share of voice and trend
    for image in images:
        cid = image["Content-ID"].strip("<>")
        data = base64.b64encode(image.get_payload(decode=True)).decode()
        html = html.replace(f"cid:{cid}", f"data:image/png;base64,{data}")
    return text_part.get_content(), html


def figures(text: str) -> Counter[str]:
    """The figures of a text, each as often as it appears (links left out: in the HTML they are hrefs)."""
    text = URL.sub(" ", text.replace("\u00ad", "").replace("\u00a0", " "))
    return Counter(m.group().rstrip(".,:") for m in FIGURE.finditer(text))


OVERFLOW = """() => {
    const width = document.documentElement.clientWidth, bad = [];
    for (const el of document.querySelectorAll('*')) {
        const box = el.getBoundingClientRect();
        if (box.width === 0) continue;
        if (box.right > width + 0.5 || el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
            bad.push(el.tagName + ': ' + (el.textContent || '').trim().slice(0, 60));
    }
    return [document.documentElement.scrollWidth, bad.slice(0, 5)];
}"""


def look(browser: Any, html: str, width: int, shot: Path | None = None, dark: bool = False) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme="dark" if dark else "light")
    page.set_content(html)
    if shot is not None:
        page.screenshot(path=str(shot), full_page=True)
    return page


@needs_chromium
def test_the_mailed_digest_fits_a_phone_and_keeps_600_pixels_on_the_desktop(
        mailed: dict[str, EmailMessage], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shots = screenshot_folder(tmp_path)
    with sync_playwright() as p:
        browser = launch(p)
        try:
            for lang, email in mailed.items():
                text, html = parts(email)
                for width in (320, 390):
                    shot = shots / f"digest-week-{lang}-{width}.png" if width == 390 else None
                    page = look(browser, html, width, shot)
                    scroll_width, overflowing = page.evaluate(OVERFLOW)
                    assert scroll_width <= width and overflowing == [], (lang, width, overflowing)
                    images = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.width])")
                    assert images and all(done and 0 < shown <= width for done, shown in images)
                    page.close()
                page = look(browser, html, 900, shots / f"digest-week-{lang}-900.png" if lang == "de" else None)
                assert page.evaluate("document.getElementById('digest').getBoundingClientRect().width") == 600
                assert page.evaluate(OVERFLOW)[1] == []
                # Every figure of the text part is in the HTML as text (not only in a chart's picture).
                shown = figures(page.inner_text("body"))
                missing = {f: n for f, n in figures(text).items() if shown[f] < n}
                assert missing == {}, missing
                page.close()
            # Dark mode: dark background, light text; and with images blocked the figures are still there.
            _, html = parts(mailed["de"])
            page = look(browser, html, 390, shots / "digest-week-de-390-dark.png", dark=True)
            card, ink = page.evaluate("""() => [getComputedStyle(document.getElementById('digest')).backgroundColor,
                                               getComputedStyle(document.querySelector('h2')).color]""")
            assert card == "rgb(26, 31, 39)" and ink == "rgb(232, 235, 240)"
            page.close()
            blocked = re.sub(r'src="data:image/png;base64,[^"]+"', 'src=""', html)
            page = look(browser, blocked, 390, shots / "digest-week-de-390-no-images.png")
            assert page.evaluate(OVERFLOW)[1] == []
            assert "Do. 26.11." in page.inner_text("body")
            page.close()
        finally:
            browser.close()


def test_the_mail_says_it_in_german_with_the_deployments_words(mailed: dict[str, EmailMessage]) -> None:
    text, html = parts(mailed["de"])
    for part in (text, html):
        assert "KW 48" in part and "2026-W4" not in part.replace("--week 2026-W48", "")
        assert "Pünktlichkeit" in part and "Online-Banking" in part and "Lieferung" not in part
        assert "Deutsch" in part and "Englisch" in part
        assert "Do. 26.11.: 169 Erwähnungen (135 negativ), sonst 26 am Tag (6,5× so viele)" in part
        assert "Spike-Alarm 09:00–10:00 Uhr: 30 Erwähnungen, 2 erwartet (15,0×)" in part
        assert "Beschwerden über Online-Banking: 135 (Vorwoche 0, +135)" in part
        assert "Netto-Stimmung" in part and "−43 Pkt." in part  # −35 against +8
    assert ">Anteil negativ</th>" in html  # column headers capitalised, not a bare "negativ"
    # Colours say what a change means for the brand: more mentions in a crisis is no good news.
    assert re.search(r'<span class="flat" style="color: #3d4654;">\+168 \(\+101 %\)</span>', html)
    assert re.search(r'<span class="bad" style="color: #c62828;">\+30 Pkt\.</span>', html)  # negative share
    assert re.search(r'<span class="bad" style="color: #c62828;">−43 Pkt\.</span>', html)  # net sentiment
    # Hostile mention text is text: escaped in the HTML, no markup of its own.
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert HOSTILE in text
    english, _ = parts(mailed["en"])
    assert "Thu 26 Nov: 169 mentions (135 negative), usually 26 a day (6.5× the usual)" in english
    assert "German" in english and "W48" in english
