"""Behind a reverse proxy: whether the care inbox trusts it, so sign-in throttling sees each client's address.

Without `trusted_proxies`, every request seems to come from the proxy (127.0.0.1): one attacker's failures then
count against every colleague's sign-in. `listener doctor` reads the config for the signs of a proxy in front;
the running app logs once per proxy address that sends `X-Forwarded-For` without being trusted.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from urllib.parse import urlsplit

from listener.web.settings import WebSettings

log = logging.getLogger(__name__)
_warned: set[str] = set()
_lock = threading.Lock()


def note_untrusted_forwarding(peer: str) -> None:
    """A request carried X-Forwarded-For from `peer`, which `trusted_proxies` does not name (logged once)."""
    with _lock:
        if peer in _warned or len(_warned) > 100:
            return
        _warned.add(peer)
    log.warning("event=web_untrusted_proxy peer=%s: X-Forwarded-For ignored; if this is your reverse proxy, add it "
                "to [web] trusted_proxies, or every client shares its address for sign-in throttling", peer)


def _loopback_or_private(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost"
    return ip.is_loopback or ip.is_private


def proxy_problem(config: WebSettings) -> str | None:
    """Why the config looks like a proxy in front that is not trusted (None: it does not, or it is trusted).

    Signs of a proxy: the inbox listens on a loopback or private address while `base_url` names another host,
    or `base_url` is https (listener itself speaks plain HTTP)."""
    if config.trusted_proxies or config.auth == "header" or not config.base_url:
        return None
    public = urlsplit(config.base_url)
    behind = public.scheme == "https" or (public.hostname not in (config.host, "localhost", "127.0.0.1", "::1")
                                          and _loopback_or_private(config.host))
    if not behind:
        return None
    return (f"[web] listens on {config.listen} and is reached as {config.base_url}, so a reverse proxy is in "
            "front; trusted_proxies is empty, so every client shares the proxy's address for sign-in throttling "
            "(one attacker slows everybody down): set trusted_proxies = [\"127.0.0.1\"] (the proxy's address) "
            "and let it send X-Forwarded-For (docs/web.md)")
