"""Reliability tests reuse the integration fixtures (engine, images)."""

from tests.integration.conftest import engine, images  # noqa: F401
