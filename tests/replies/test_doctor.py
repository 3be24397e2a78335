"""`listener doctor` checks the write credentials of every source that posts replies: missing secrets are named,
and where the platform can say who the credentials are, it is asked (nothing is posted)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from listener.app import App
from listener.ops.doctor import run_checks
from tests.replies.fakes import DiscourseFake, MastodonFake
from tests.replies.helpers import discourse_source, mastodon_source, settings_with


@pytest.fixture
def platforms() -> Iterator[tuple[DiscourseFake, MastodonFake]]:
    with DiscourseFake() as forum, MastodonFake() as fedi:
        yield forum, fedi


def reply_lines(app: App) -> dict[str, tuple[str, str]]:
    return {r.name: (r.status, r.detail) for r in run_checks(app) if r.name.startswith("replies ")}


def test_doctor_checks_write_credentials(platforms: tuple[DiscourseFake, MastodonFake], tmp_path: object,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    forum, fedi = platforms
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.delenv("LISTENER_FORUM_WRITE_KEY", raising=False)
    monkeypatch.setenv("LISTENER_FEDI_WRITE_TOKEN", "write-token")
    settings = settings_with(discourse_source(forum.base_url), mastodon_source(fedi.base_url),
                             {"name": "quiet", "kind": "discourse", "base_url": forum.base_url},
                             db_url=f"sqlite:///{tmp_path}/d.db")
    app = App(settings)
    app.migrate()
    lines = reply_lines(app)
    assert set(lines) == {"replies forum", "replies fedi"}  # a source without `reply = true` is not checked
    assert lines["replies forum"][0] == "FAIL" and "LISTENER_FORUM_WRITE_KEY" in lines["replies forum"][1]
    assert lines["replies fedi"] == ("ok", f"write credentials accepted: posts as @mastodonpy_test on "
                                           f"{fedi.base_url}")
    monkeypatch.setenv("LISTENER_FORUM_WRITE_KEY", "write-key")
    monkeypatch.setenv("LISTENER_FEDI_WRITE_TOKEN", "expired")
    lines = reply_lines(app)
    assert lines["replies forum"] == ("ok", "write credentials accepted: posts as acme_care")
    assert lines["replies fedi"][0] == "FAIL" and "The access token is invalid" in lines["replies fedi"][1]
    assert "expired" not in lines["replies fedi"][1]  # the secret itself is never printed
    assert forum.posts == [] and fedi.posts == []
    app.close()
