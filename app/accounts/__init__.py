"""Accounts: users, roles and permissions, sign-up, verification, login, reset, profile."""
