"""Other systems' access (API keys, idempotent requests) and webhooks out through the outbox."""
