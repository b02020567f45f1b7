"""Notifications: email (sent by jobs), later in-app notifications and preferences."""
