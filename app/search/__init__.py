"""Product search over a Whoosh index, and search analytics."""
