"""The fixture each source kind gives the contract suite (tests/sources/test_contract.py).

A kind's test module (`tests/sources/test_<kind>.py`) defines `contract() -> ContractCase`: its platform's fake
(an ApiServer answering with recorded payloads from ../shared/wild), the `[[source]]` keys that point the source
at it, the brands the payloads talk about, the time they were recorded, and how one more item appears on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from listener.clock import FakeClock
from listener.matching import BrandSettings
from tests.sources._http import ApiServer


@dataclass
class ContractCase:
    server: Callable[[FakeClock], ApiServer]  # the platform, answering with recorded payloads
    settings: Callable[[ApiServer], dict[str, Any]]  # the source's keys besides name and kind, pointing at it
    brands: list[BrandSettings]  # what the recorded payloads talk about
    now: datetime  # when they were recorded: first polls look back from here
    # news(server, when): one new item about a brand appears on the platform, posted at `when`; its external id
    news: Callable[[Any, datetime], str]
    secrets: dict[str, str] = field(default_factory=dict)  # environment variables holding the source's secrets
