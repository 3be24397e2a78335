"""`listener demo` ends by writing marketing's digest of its sample data and saying where it is."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from listener.cli import cli
from tests.tiny_model import build_tiny_model


def test_demo_writes_the_digest_of_its_sample_data(tmp_path: Path) -> None:
    model = build_tiny_model(tmp_path / "model", labels=["negative", "neutral", "positive"], bias=[4.0, 0.0, 0.0])
    result = CliRunner().invoke(cli, ["demo", "--model", str(model), "--dir", str(tmp_path / "demo"), "--no-web"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "== digest" in result.output
    # This tiny model calls everything negative: 9 Acme mentions in the sample feeds, 1 of Globex.
    # No mentions in the 7 days before: no change to report, every complaint is new.
    assert re.search(r"  9 mentions of Acme; more complaints about \w+ \(\+\d\)\.", result.output), result.output
    match = re.search(r"written to (\S+digest\.html) \(open it in a browser\) and (\S+digest\.txt)", result.output)
    assert match, result.output
    html, text = Path(match.group(1)), Path(match.group(2))
    assert html.parent == (tmp_path / "demo").resolve()
    assert html.read_text().count("data:image/png;base64,") == 3
    body = text.read_text()
    assert "Acme: 90% (9;" in body and "Globex: 10% (1;" in body  # share of voice
