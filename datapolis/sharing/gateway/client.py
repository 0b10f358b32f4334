"""Signing a call to the sharing gateway: the canonical string and the headers that carry it.

This module is the client side (tests, benches and callers import it); the server checks the
same canonical string in `auth.py`. It imports nothing from the server.

The canonical string is seven lines joined by "\\n" (no trailing newline):

    ALGORITHM        "HMAC-SM3" or "HMAC-SHA256", as configured for the app
    METHOD           upper case, e.g. "GET"
    PATH             the decoded URL path, percent-encoded again with only A-Z a-z 0-9 - _ . ~ /
                     left as they are (so "/share/v1/R1/records/37 13" -> ".../37%2013")
    QUERY            every query parameter decoded, sorted by (name, value), each name and value
                     percent-encoded with only A-Z a-z 0-9 - _ . ~ left as they are, joined as
                     name=value with "&"; empty when there is none
    TIMESTAMP        Unix seconds, the value of X-Dp-Timestamp
    NONCE            the value of X-Dp-Nonce: 16-64 of A-Z a-z 0-9 - _
    BODY_HASH        lower-case hex SM3 (HMAC-SM3) or SHA-256 (HMAC-SHA256) of the raw body bytes
                     (of the empty string when there is no body)

The signature is the lower-case hex HMAC of the UTF-8 canonical string under the app secret
(its UTF-8 bytes), sent in X-Dp-Signature with the app key in X-Dp-App-Key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from datapolis.security.crypto import hmac_sm3, sm3

APP_KEY_HEADER = "X-Dp-App-Key"
TIMESTAMP_HEADER = "X-Dp-Timestamp"
NONCE_HEADER = "X-Dp-Nonce"
SIGNATURE_HEADER = "X-Dp-Signature"

ALGORITHMS = {"hmac-sm3": "HMAC-SM3", "hmac-sha256": "HMAC-SHA256"}


def body_hash(algorithm: str, body: bytes) -> str:
    if algorithm == "hmac-sm3":
        return sm3(body).hex()
    if algorithm == "hmac-sha256":
        return hashlib.sha256(body).hexdigest()
    raise ValueError(f"unknown signing algorithm {algorithm!r}; known: {', '.join(ALGORITHMS)}")


def canonical_path(path: str) -> str:
    return quote(unquote(path), safe="/-_.~")


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}"
                    for name, value in sorted(pairs))


def canonical_string(*, algorithm: str, method: str, path: str,
                     query: Iterable[tuple[str, str]], timestamp: str, nonce: str,
                     body: bytes) -> str:
    return "\n".join([ALGORITHMS[algorithm], method.upper(), canonical_path(path),
                      canonical_query(query), timestamp, nonce, body_hash(algorithm, body)])


def signature(secret: str, algorithm: str, canonical: str) -> str:
    if algorithm == "hmac-sm3":
        return hmac_sm3(secret.encode(), canonical.encode()).hex()
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def sign(method: str, url: str, *, app_key: str, secret: str, body: bytes = b"",
         algorithm: str = "hmac-sm3", timestamp: int | None = None,
         nonce: str | None = None) -> dict[str, str]:
    """The headers that sign one call. `url` is a path with its query string, or a full URL.

    >>> headers = sign("GET", "/share/v1/R/records/1", app_key="dp_x", secret="s")
    >>> sorted(headers)
    ['X-Dp-App-Key', 'X-Dp-Nonce', 'X-Dp-Signature', 'X-Dp-Timestamp']
    """
    parts = urlsplit(url)
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    once = nonce or secrets.token_urlsafe(18)
    canonical = canonical_string(
        algorithm=algorithm, method=method, path=parts.path or "/",
        query=parse_qsl(parts.query, keep_blank_values=True), timestamp=stamp, nonce=once,
        body=body)
    return {APP_KEY_HEADER: app_key, TIMESTAMP_HEADER: stamp, NONCE_HEADER: once,
            SIGNATURE_HEADER: signature(secret, algorithm, canonical)}

