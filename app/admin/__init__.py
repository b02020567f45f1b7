"""Admin: moderation of listings and vendor applications, and the category tree."""
