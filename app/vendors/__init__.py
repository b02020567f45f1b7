"""Vendors: applications to sell, verification and public storefronts."""
