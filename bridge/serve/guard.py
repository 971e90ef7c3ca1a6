"""Who may act from the dashboard: read-only unless a token is configured (``BRIDGE_DASHBOARD_TOKEN``).

With a token, a move is a POST that must carry (1) the token itself, typed into the form (never rendered,
never logged), and (2) a CSRF value: the HMAC of the browser's session cookie under a key only this
server process knows (a signed double submit). The cookie is HttpOnly and SameSite=Strict, so another
site can neither read it nor send it; a request whose ``Origin`` names another site is refused as well.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping

COOKIE = "bridge_session"
WHO = re.compile(r"^[\w .@-]{1,64}$")  # who acts: a name, shown in the audit as dashboard:<who>


class Refused(Exception):
    """A move the guard refuses: ``status`` 403 (not allowed) or 400 (bad form), one line why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class Guard:
    def __init__(self, token: str | None, key: bytes | None = None) -> None:
        self._token = token or None
        self._key = key or secrets.token_bytes(32)

    @property
    def writable(self) -> bool:
        return self._token is not None

    @staticmethod
    def new_session() -> str:
        return secrets.token_urlsafe(32)

    def csrf_for(self, session: str) -> str:
        return hmac.new(self._key, session.encode(), hashlib.sha256).hexdigest()

    def check(
        self, cookies: Mapping[str, str], form: Mapping[str, str], origin: str | None, own_origin: str
    ) -> str:
        """The actor (``dashboard:<who>``) of an allowed move; else raises :class:`Refused`."""
        if not self.writable:
            raise Refused(403, "read-only: the dashboard acts only when BRIDGE_DASHBOARD_TOKEN is set")
        if origin and origin != own_origin:
            raise Refused(403, "refused: the form was sent from another site")
        session = cookies.get(COOKIE, "")
        sent = form.get("csrf", "")
        if not session or not sent or not hmac.compare_digest(sent, self.csrf_for(session)):
            raise Refused(403, "refused: the form's CSRF value does not match this session (reload the page)")
        token = form.get("token", "")
        if not hmac.compare_digest(token.encode(), (self._token or "").encode()):
            raise Refused(403, "refused: wrong token")
        who = form.get("who", "").strip()
        if not WHO.fullmatch(who):
            raise Refused(400, "say who you are: a name of letters, digits, spaces, . @ - (at most 64)")
        if not form.get("reason", "").strip():
            raise Refused(400, "a reason is required: it goes into the audit with the change")
        return f"dashboard:{who}"
