"""Sign-in and bad-token throttling, counted in moving windows of the shared store
(:mod:`tfe.core.security.ratelimit`: process memory embedded, Redis at scale), so several server processes
agree and a restart forgets nothing.

Sign-in failures are counted three ways (see docs/security.md, "Sign-in and token throttling"):

* per **(account, address)** pair: ``login_max_failures`` within ``login_window_s`` and that pair waits
  until its oldest failure leaves the window. The same account from another address is not affected, so
  an attacker cannot lock an adviser out;
* per **address**, any account: a higher limit stops password spraying from one address;
* per **account**, any address: a *soft* lock, never a hard one. Past ``login_account_max_failures``
  the account admits one attempt per ``login_account_delay_s`` (from any address), and addresses where
  the account signed in successfully before are not held by it at all.

E-mail addresses are stored only as SHA-256 hashes; IPv6 addresses are counted per /64 network (one
subscriber's allocation), IPv4 addresses as they are.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerSecond

from tfe.core.security.ratelimit import SharedLimiter, namespace_for, shared_limiter
from tfe.core.settings import Settings

__all__ = ["LoginPolicy", "LoginThrottle", "TokenThrottle", "address_key", "email_key"]

#: How long a successful sign-in makes its address "known" to the account (exempt from the soft lock).
KNOWN_ADDRESS_S = 30 * 24 * 3600
#: The account's window holds this many times its limit, so that the failures made under the soft lock
#: still count and keep it on (a window that stopped at the limit would drain and free a new burst).
ACCOUNT_HEADROOM = 10


def email_key(email: str) -> str:
    """The account's key: SHA-256 of the normalised e-mail (no personal data in the store)."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def address_key(address: str) -> str:
    """The address's key: an IPv4 address as is, an IPv6 address as its /64, anything else verbatim."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _per(amount: int, seconds: int) -> RateLimitItem:
    return RateLimitItemPerSecond(amount, seconds)


@dataclass(frozen=True)
class LoginPolicy:
    """The numbers of the sign-in throttle (from the settings, see :meth:`from_settings`)."""

    pair_max: int = 5
    pair_window_s: int = 300
    address_max: int = 30
    address_window_s: int = 300
    account_max: int = 20
    account_window_s: int = 900
    account_delay_s: int = 30

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginPolicy:
        return cls(
            pair_max=settings.login_max_failures,
            pair_window_s=settings.login_window_s,
            address_max=settings.login_address_max_failures,
            address_window_s=settings.login_address_window_s,
            account_max=settings.login_account_max_failures,
            account_window_s=settings.login_account_window_s,
            account_delay_s=settings.login_account_delay_s,
        )


class LoginThrottle:
    """Failed sign-ins per (account, address), per address and per account, in the shared store.

    Call :meth:`retry_after` before checking a password (0: go on; else refuse and answer with that
    many seconds), then :meth:`failed` or :meth:`succeeded`. While the account is soft-locked,
    ``retry_after`` admits the attempt itself (it takes the account's one slot per delay), so parallel
    requests cannot slip several attempts through."""

    def __init__(self, limiter: SharedLimiter, policy: LoginPolicy, namespace: str = "tfe") -> None:
        self.limiter = limiter
        self.policy = policy
        self.namespace = namespace
        self._pair = _per(policy.pair_max, policy.pair_window_s)
        self._address = _per(policy.address_max, policy.address_window_s)
        self._account = _per(policy.account_max * ACCOUNT_HEADROOM, policy.account_window_s)
        self._slot = _per(1, policy.account_delay_s)
        self._known = _per(1, KNOWN_ADDRESS_S)

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginThrottle:
        return cls(shared_limiter(settings), LoginPolicy.from_settings(settings), namespace_for(settings))

    def _keys(self, email: str, address: str) -> tuple[str, str, str, str, str]:
        account, where = email_key(email), address_key(address)
        ns = f"{self.namespace}:login"
        return (
            f"{ns}:pair:{account}:{where}",
            f"{ns}:addr:{where}",
            f"{ns}:account:{account}",
            f"{ns}:slot:{account}",
            f"{ns}:known:{account}:{where}",
        )

    def retry_after(self, email: str, address: str) -> float:
        """Seconds before ``email`` may try again from ``address`` (0: it may try now)."""
        pair, addr, account, slot, known = self._keys(email, address)
        wait = max(self.limiter.wait_s(self._pair, pair), self.limiter.wait_s(self._address, addr))
        if wait > 0:
            return wait
        if self.limiter.count(self._account, account) < self.policy.account_max:
            return 0.0
        if self.limiter.wait_s(self._known, known) > 0:  # signed in from here before: not held
            return 0.0
        if self.limiter.hit(self._slot, slot):  # soft lock: this attempt is the one admitted
            return 0.0
        return self.limiter.wait_s(self._slot, slot)

    def account_failures(self, email: str) -> int:
        """Failed sign-ins of ``email`` from any address within the account's window."""
        return self.limiter.count(self._account, self._keys(email, "")[2])

    def failed(self, email: str, address: str) -> None:
        """Count one failed sign-in of ``email`` from ``address`` (a full window counts no more)."""
        pair, addr, account, _slot, _known = self._keys(email, address)
        self.limiter.hit(self._pair, pair)
        self.limiter.hit(self._address, addr)
        self.limiter.hit(self._account, account)

    def succeeded(self, email: str, address: str) -> None:
        """Forget the pair's failures and remember the address as known to the account. The address's
        and the account's counts stay: they measure attacks from elsewhere."""
        pair, _addr, _account, _slot, known = self._keys(email, address)
        self.limiter.clear(self._pair, pair)
        self.limiter.clear(self._known, known)
        self.limiter.hit(self._known, known)


class TokenThrottle:
    """Bad API tokens per client address (``token_max_failures`` within ``token_window_s``), in the
    shared store. ``retry_after`` is 0 while the address may try again."""

    def __init__(
        self, limiter: SharedLimiter, max_failures: int = 20, window_s: int = 60, namespace: str = "tfe"
    ) -> None:
        self.limiter = limiter
        self.namespace = namespace
        self._item = _per(max_failures, window_s)

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenThrottle:
        return cls(
            shared_limiter(settings),
            settings.token_max_failures,
            settings.token_window_s,
            namespace_for(settings),
        )

    def _key(self, address: str) -> str:
        return f"{self.namespace}:token:addr:{address_key(address)}"

    def retry_after(self, address: str) -> float:
        return self.limiter.wait_s(self._item, self._key(address))

    def failed(self, address: str) -> None:
        self.limiter.hit(self._item, self._key(address))
