"""Core pages: home, health check, robots."""
