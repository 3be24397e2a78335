"""HTML fragments (post bodies, review texts, titles) as plain text."""

from __future__ import annotations

from bs4 import BeautifulSoup

BLOCK_TAGS = ("br", "p", "div", "li", "tr", "td", "th", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "hr")


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment: block elements separate words, inline ones (a, span, b) do not."""
    if "<" not in fragment and "&" not in fragment:
        return " ".join(fragment.split())
    soup = BeautifulSoup(fragment, "html.parser")
    for tag in soup.find_all(BLOCK_TAGS):
        tag.insert_before(" ")
        tag.insert_after(" ")
    return " ".join(soup.get_text().split())
