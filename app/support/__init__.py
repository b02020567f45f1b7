"""Support threads: buyers and vendors talk about an order line; either may escalate to admins."""
