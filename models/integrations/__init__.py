"""Other systems: API keys with their scopes and units, idempotent requests, webhook subscriptions."""
