"""Model fields for personal data encrypted at rest (see :mod:`expatsi.access.crypto`).

``EncryptedTextField`` keeps a Fernet token in the database and plaintext in Python: the attribute
reads and writes as an ordinary string, so forms, templates and PDFs need no change. It cannot be
filtered on (equal values have different tokens); pair it with a ``SearchHashField`` for exact
lookups and uniqueness::

    number = EncryptedTextField(_("passport number"))
    number_hash = SearchHashField(source="number")   # set on every save from ``number``

    Passport.objects.filter(number_hash__in=search_hashes("C01X00T47"))

It is generic: any short secret (passport numbers now, bank account numbers for payouts abroad
later) takes the same two fields and is picked up by ``expatsi data reencrypt`` and ``rehash``.
``QuerySet.update()`` bypasses ``pre_save``: change an encrypted value with ``save()`` (or set the
hash yourself) so the hash follows.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldError
from django.db import models
from django.db.models import Lookup, Transform

from expatsi.access import crypto

_ALLOWED_LOOKUPS = frozenset({"isnull"})


class EncryptedTextField(models.TextField[str, str]):
    """Plaintext in Python, a Fernet token (newest data key) in the database."""

    description = "Text encrypted at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value, where=f"{self.model._meta.label}.{self.name}")

    def to_python(self, value: Any) -> str | None:
        return value if value is None or isinstance(value, str) else str(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None:
            return None
        if value == "":
            return ""  # an empty value is no secret, and stays blank
        return crypto.encrypt(str(value))

    def get_lookup(self, lookup_name: str) -> type[Lookup[Any]] | None:
        if lookup_name in _ALLOWED_LOOKUPS:
            return super().get_lookup(lookup_name)
        raise FieldError(self._no_lookup_message(lookup_name))

    def get_transform(self, lookup_name: str) -> type[Transform] | None:
        raise FieldError(self._no_lookup_message(lookup_name))

    def _no_lookup_message(self, lookup_name: str) -> str:
        hashes = [
            f.name
            for f in self.model._meta.concrete_fields
            if isinstance(f, SearchHashField) and f.source == self.name
        ]
        hint = (
            f"filter on {hashes[0]}__in=search_hashes(value)" if hashes else "it has no search hash"
        )
        return (
            f"{self.model._meta.label}.{self.name} is encrypted and cannot be filtered with "
            f"'{lookup_name}': {hint} (expatsi.access.crypto)"
        )


class SearchHashField(models.CharField[str, str]):
    """HMAC-SHA256 (hex) of the normalised value of ``source``, recomputed on every save."""

    description = "Keyed hash of an encrypted field, for exact lookups"

    def __init__(self, *args: Any, source: str, **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        if kwargs.get("max_length") == 64:
            del kwargs["max_length"]
        if kwargs.get("editable") is False:
            del kwargs["editable"]
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = getattr(model_instance, self.source)
        digest = crypto.search_hash(value) if value else ""
        setattr(model_instance, self.attname, digest)
        return digest
