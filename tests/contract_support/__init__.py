"""Test helpers that start real servers (Docker containers) for the integration and contract suites."""
