"""The HTTP API under /api/v1 for a centre's other systems (telephony, WeChat, app, marketing),
mounted beside the portal; see docs/api.md."""
