"""Licensing: licences, keys, entitlements and activation limits."""
