"""Append-only, hash-chained audit log."""

from modelgate.audit.service import record, verify

__all__ = ["record", "verify"]
