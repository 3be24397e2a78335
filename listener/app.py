"""Builds the running parts from the settings; shared by the CLI and the daemon."""

from __future__ import annotations

from functools import cached_property

from listener.acting.escalation import EscalationReport, run_escalations
from listener.acting.spikes.check import SpikeReport, check_spikes
from listener.clock import Clock, SystemClock
from listener.config import Settings
from listener.delivery.channels import Channel
from listener.delivery.helpdesk.channels import build_channels
from listener.delivery.locale import alert_locale
from listener.delivery.outbox import DeliveryReport, deliver_pending
from listener.matching import BrandMatcher
from listener.nlp.loader import load_scorer
from listener.nlp.scoring import Scorer
from listener.ops.privacy import author_key, install_pseudonymiser
from listener.pipeline import PollReport, ScoreReport, poll_source, score_pending
from listener.replies.clients import ReplyClients
from listener.replies.outbox import ReplyReport, deliver_replies
from listener.sources.kit import HttpFetcher, Source, SourceContext, get_source_class
from listener.store.engine import Store, upgrade


class App:
    def __init__(self, settings: Settings, clock: Clock | None = None, scorer: Scorer | None = None):
        self.settings = settings
        self.clock = clock or SystemClock()
        self.store = Store(settings.database.url)
        if settings.privacy.pseudonymise_authors:  # authors are stored as keyed hashes (listener/ops/privacy.py)
            install_pseudonymiser(self.store, author_key(settings.privacy) or b"")
        self._scorer = scorer

    def close(self) -> None:
        if "http" in self.__dict__:
            self.http.close()
        if "reply_clients" in self.__dict__:
            self.reply_clients.close()
        self.store.dispose()

    def migrate(self) -> None:
        upgrade(self.store)

    @cached_property
    def http(self) -> HttpFetcher:
        return HttpFetcher(self.settings.http, self.clock)

    @cached_property
    def matcher(self) -> BrandMatcher:
        return BrandMatcher(self.settings.brand)

    @cached_property
    def sources(self) -> dict[str, Source]:
        return _build_sources(self.settings, self.http, self.clock)

    @cached_property
    def channels(self) -> dict[str, Channel]:
        return build_channels(self.settings.channel, self.store, self.clock)

    @cached_property
    def reply_clients(self) -> ReplyClients:
        """The platforms' write clients of the reply-enabled sources (listener/replies)."""
        return ReplyClients(self.settings, self.clock)

    def reconfigure(self, settings: Settings) -> None:
        """Take a reloaded config (SIGHUP). The parts built from it are all built first, then swapped in at once,
        so a job running meanwhile uses either the old parts or the new ones; an error here changes nothing."""
        # A fetcher a running poll may still use is not closed; it goes with its last reference.
        http = self.http if settings.http == self.settings.http else HttpFetcher(settings.http, self.clock)
        parts = {
            "http": http,
            "matcher": BrandMatcher(settings.brand),
            "sources": _build_sources(settings, http, self.clock),
            "channels": build_channels(settings.channel, self.store, self.clock),
            "reply_clients": ReplyClients(settings, self.clock),  # the old one goes with its last reference
        }
        self.__dict__.update(parts, settings=settings)  # the cached_property values, replaced together

    @property
    def scorer_loaded(self) -> bool:
        return self._scorer is not None

    @property
    def scorer(self) -> Scorer:
        if self._scorer is None:
            self._scorer = load_scorer(self.settings.nlp, self.settings.cache_dir)
        return self._scorer

    def poll(self, names: list[str] | None = None, force: bool = False) -> list[PollReport]:
        chosen = [self.sources[n] for n in names] if names else list(self.sources.values())
        return [poll_source(self.store, source, self.matcher, self.clock, force=force) for source in chosen]

    def score(self, claim: bool = False) -> ScoreReport:
        """`claim`: other nodes score the same database (listener/pipeline.py: score_pending)."""
        return score_pending(self.store, self.scorer, self.settings.rule, self.clock,
                             batch_size=self.settings.daemon.score_batch, claim=claim)

    def escalate(self) -> EscalationReport:
        return run_escalations(self.store, self.settings.rule, self.clock)

    def check_spikes(self, dry_run: bool = False) -> SpikeReport:
        return check_spikes(self.store, self.settings.spike, [b.name for b in self.settings.brand], self.clock,
                            dry_run=dry_run)

    def deliver(self, batch: int | None = None) -> DeliveryReport:
        """Send due outbox rows, `[delivery] batch` (or `batch`) claimed at a time; both modes deliver here."""
        from listener.web.security import ack_links, task_url_template

        # Alerts link to the care inbox when it is configured: its task pages and signed acknowledge links.
        delivery = self.settings.delivery
        if delivery.task_url is None and (served := task_url_template(self.settings.web)):
            delivery = delivery.model_copy(update={"task_url": served})
        if batch is not None:
            delivery = delivery.model_copy(update={"batch": batch})
        return deliver_pending(self.store, self.channels, delivery, self.clock, ack_links(self.settings.web,
                                                                                          self.clock),
                               alert_locale(self.settings))


    def deliver_replies(self) -> ReplyReport:
        """Post the queued replies to their platforms (listener/replies/outbox.py)."""
        return deliver_replies(self.store, self.settings, self.reply_clients, self.clock)


def _build_sources(settings: Settings, http: HttpFetcher, clock: Clock) -> dict[str, Source]:
    context = SourceContext(http=http, brands=settings.brand, clock=clock)
    return {s.name: get_source_class(s.kind)(s, context) for s in settings.source if s.enabled}
