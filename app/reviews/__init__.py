"""Reviews and ratings: buyers' reviews, the vendor's reply, reports, moderation, spam checks."""
