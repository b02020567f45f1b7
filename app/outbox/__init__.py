"""The transactional outbox: events written with the change, dispatched to jobs after commit."""
