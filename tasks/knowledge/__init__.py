"""The knowledge base's use cases: versions and their approval, finding the answer for a call,
Chinese full-text search, and expiry with its notices."""
