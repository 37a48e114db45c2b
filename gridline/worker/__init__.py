"""Gridline's Prefect worker type `gridline-inprocess`: lifecycle runs and resumes executed in threads
of one long-lived process (registered through the `prefect.collections` entry point)."""
