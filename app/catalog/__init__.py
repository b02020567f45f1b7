"""Catalog: products, their review flow, categories and tags, and the public pages."""
