"""Instances racing for a licence's last activations, from threads with their own sessions:
exactly max_activations of them get one (SQLite here; PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from app.extensions import db
from app.licensing.models import LicenceActivation
from app.licensing.services import ActivationLimitReached, activate_instance
from tests.licensing.factories import create_licence

RACERS = 8


def _race(app, key: str, product_id: int, instances: list[str]) -> list[str]:
    barrier = threading.Barrier(len(instances))
    outcomes: list[str] = []
    lock = threading.Lock()

    def racer(instance: str) -> None:
        with app.app_context():
            barrier.wait()
            try:
                activate_instance(key, product_id, instance)
                db.session.commit()
                outcome = "activated"
            except ActivationLimitReached:
                db.session.rollback()
                outcome = "refused"
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=racer, args=(i,)) for i in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_racing_instances_take_exactly_the_places_left(app, make_user):
    made = create_licence(app, make_user, max_activations=2)
    outcomes = _race(app, made.key, made.product_id, [f"box-{n}" for n in range(RACERS)])
    assert sorted(outcomes) == ["activated"] * 2 + ["refused"] * (RACERS - 2)
    with app.app_context():
        count = db.session.scalar(
            select(func.count())
            .select_from(LicenceActivation)
            .where(LicenceActivation.licence_id == made.id)
        )
    assert count == 2


def test_one_instance_racing_itself_is_activated_once(app, make_user):
    made = create_licence(app, make_user, max_activations=1)
    outcomes = _race(app, made.key, made.product_id, ["box-1"] * 4)
    assert outcomes == ["activated"] * 4  # idempotent: each call finds it active or makes it
    with app.app_context():
        rows = db.session.scalars(
            select(LicenceActivation).where(LicenceActivation.licence_id == made.id)
        ).all()
    assert len(rows) == 1
