"""Downloads: signed, short-lived links to stored files (entitlements and limits come later)."""
