"""The field keyring (SM4 keys that encrypt column values) and the blind-index keys.

Field keys rotate: `rotate` makes a new current key, the old one stays readable (`active`)
until `retire` removes it, which is refused while any ciphertext still names it. Blind-index
keys never rotate: one random key per column family, so the same value has the same index in
every table of the family (that is what lets two tables join), and changing it would mean
re-indexing every such table at once.

Every key is random (os.urandom) and stored wrapped: SM4-GCM under the platform's secrets
keyring (derived from DATAPOLIS_SECRET_KEY), bound to the key's id or family, so a wrapped key
copied onto another row does not unwrap. Nothing here logs a key or returns it to a caller
outside this slice.
"""

from __future__ import annotations

import base64
import os
import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datapolis.errors import Conflict, NotFound, UserError
from datapolis.registry.base import utcnow
from datapolis.security.crypto import SM4_KEY_BYTES, Keyring
from datapolis.security.fields.cipher import BlindIndex, FieldCipher
from datapolis.security.fields.models import (
    ACTIVE,
    CURRENT,
    RETIRED,
    BlindIndexKey,
    FieldKey,
)

INDEX_KEY_BYTES = 32
FAMILY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _wrap(master: Keyring, key: bytes, context: str) -> str:
    return master.encrypt(base64.b64encode(key).decode(), context=context)


def _unwrap(master: Keyring, wrapped: str, context: str) -> bytes:
    return base64.b64decode(master.decrypt(wrapped, context=context))


def _key_context(key_id: str) -> str:
    return f"field-key:{key_id}"


def keys(session: Session) -> list[FieldKey]:
    return list(session.scalars(select(FieldKey).order_by(FieldKey.id)))


def ensure_current(session: Session, master: Keyring, *, actor: str) -> FieldKey:
    """The current field key, made (as `f1`) the first time a column is protected."""
    current = session.scalar(select(FieldKey).where(FieldKey.state == CURRENT))
    if current is not None:
        return current
    return _new_key(session, master, actor=actor)


def _new_key(session: Session, master: Keyring, *, actor: str) -> FieldKey:
    number = (session.scalar(select(func.count(FieldKey.id))) or 0) + 1
    key_id = f"f{number}"
    row = FieldKey(key_id=key_id, wrapped=_wrap(master, os.urandom(SM4_KEY_BYTES),
                                                _key_context(key_id)),
                   state=CURRENT, created_by=actor)
    session.add(row)
    session.flush()
    return row


def rotate(session: Session, master: Keyring, *, actor: str) -> FieldKey:
    """A new current key; the previous current key stays for reading."""
    for row in session.scalars(select(FieldKey).where(FieldKey.state == CURRENT)):
        row.state = ACTIVE
    session.flush()
    return _new_key(session, master, actor=actor)


def get_key(session: Session, key_id: str) -> FieldKey:
    row = session.scalar(select(FieldKey).where(FieldKey.key_id == key_id))
    if row is None:
        raise NotFound(f"no field key {key_id!r}")
    return row


def mark_retired(session: Session, key_id: str, *, actor: str) -> FieldKey:
    """Retire a key; the caller has counted that no ciphertext uses it any more."""
    row = get_key(session, key_id)
    if row.state == CURRENT:
        raise Conflict(f"field key {key_id!r} is the current key; rotate first")
    if row.state == RETIRED:
        raise Conflict(f"field key {key_id!r} is already retired")
    row.state, row.retired_at, row.retired_by = RETIRED, utcnow(), actor
    row.wrapped = ""  # the key itself is destroyed, not merely hidden
    session.flush()
    return row


def cipher(session: Session, master: Keyring) -> FieldCipher:
    """A cipher over every key that is not retired; new writes use the current one."""
    rows = keys(session)
    live = {r.key_id: _unwrap(master, r.wrapped, _key_context(r.key_id))
            for r in rows if r.state != RETIRED}
    current = next((r.key_id for r in rows if r.state == CURRENT), None)
    if current is None:
        raise UserError("the field keyring is empty: protect a column first")
    return FieldCipher(Keyring(keys=live, current=current),
                       retired={r.key_id for r in rows if r.state == RETIRED})


def check_family(family: str) -> str:
    if not FAMILY.match(family):
        raise UserError(f"column family {family!r} must be a lower-case name of letters, digits "
                        "and _ (at most 40), e.g. id_number")
    return family


def blind_index(session: Session, master: Keyring, family: str, *, actor: str) -> BlindIndex:
    """The family's index; its key is made on first use."""
    check_family(family)
    row = session.scalar(select(BlindIndexKey).where(BlindIndexKey.family == family))
    context = f"blind-index:{family}"
    if row is None:
        row = BlindIndexKey(family=family, created_by=actor,
                            wrapped=_wrap(master, os.urandom(INDEX_KEY_BYTES), context))
        session.add(row)
        session.flush()
    return BlindIndex(_unwrap(master, row.wrapped, context))


def existing_index(session: Session, master: Keyring, family: str) -> BlindIndex:
    row = session.scalar(select(BlindIndexKey).where(BlindIndexKey.family == family))
    if row is None:
        raise NotFound(f"no blind-index key for column family {family!r}")
    return BlindIndex(_unwrap(master, row.wrapped, f"blind-index:{family}"))
