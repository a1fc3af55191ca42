"""modelgate: an ML governance gatekeeper — registry, policy checks, approvals and audit."""

__version__ = "0.1.0"
