"""Prefect flows: each reads top to bottom like the business process it runs."""
