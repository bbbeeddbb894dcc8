from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from omc.cache import CacheRole, MemoryStore
from omc.db.engine import session_scope
from omc.db.models import User, UserRole
from omc.errors import Conflict, NotFound, RateLimited
from omc.lab import sessions as store
from omc.runtime import Runtime
from tests.conftest import add_user


def users(runtime: Runtime) -> dict[str, int]:
    return {
        "ana": add_user(runtime, "ana@example.com", UserRole.ANALYST),
        "bob": add_user(runtime, "bob@example.com", UserRole.ANALYST),
        "vic": add_user(runtime, "vic@example.com", UserRole.VIEWER),
        "adm": add_user(runtime, "adm@example.com", UserRole.ADMIN),
    }


def user(session: Session, user_id: int) -> User:
    found = session.get(User, user_id)
    assert found is not None
    return found


def test_a_user_past_the_active_session_limit_is_refused(runtime: Runtime) -> None:
    ids = users(runtime)
    with session_scope(runtime.sessions) as session:
        ana = user(session, ids["ana"])
        store.create_session(session, ana, "goal one", max_active=2)
        store.create_session(session, ana, "goal two", max_active=2)
        with pytest.raises(RateLimited, match="2 Lab sessions in progress"):
            store.create_session(session, ana, "goal three", max_active=2)
        other = store.create_session(
            session, user(session, ids["bob"]), "x", max_active=2
        )

    assert other.status == "queued"


def test_finished_sessions_do_not_count_against_the_limit(runtime: Runtime) -> None:
    ids = users(runtime)
    with session_scope(runtime.sessions) as session:
        ana = user(session, ids["ana"])
        first = store.create_session(session, ana, "goal one", max_active=1)
        store.request_cancel(session, first)

        second = store.create_session(session, ana, "goal two", max_active=1)

    assert (first.status, second.status) == ("cancelled", "queued")


def test_analysts_see_their_own_sessions_and_admins_and_viewers_see_all(
    runtime: Runtime,
) -> None:
    ids = users(runtime)
    with session_scope(runtime.sessions) as session:
        mine = store.create_session(
            session, user(session, ids["ana"]), "a", max_active=5
        )
        store.create_session(session, user(session, ids["bob"]), "b", max_active=5)

        def visible(name: str) -> int:
            _, total = store.list_sessions(
                session, user(session, ids[name]), offset=0, limit=10
            )
            return total

        counts = {name: visible(name) for name in ids}
        with pytest.raises(NotFound):
            store.get_session(session, user(session, ids["bob"]), mine.id)

    assert counts == {"ana": 1, "bob": 1, "vic": 2, "adm": 2}


def test_cancelling_an_ended_session_is_a_conflict(runtime: Runtime) -> None:
    ids = users(runtime)
    with session_scope(runtime.sessions) as session:
        row = store.create_session(
            session, user(session, ids["ana"]), "a", max_active=5
        )
        store.request_cancel(session, row)

        with pytest.raises(Conflict, match="already ended"):
            store.request_cancel(session, row)


def test_events_keep_their_order_and_expire_with_retention() -> None:
    events = store.SessionEvents(MemoryStore(CacheRole.LAB), timedelta(days=1))

    events.publish("s1", "status", status="running")
    events.publish("s1", "node", node="planning")

    assert [(e["seq"], e["kind"]) for e in events.read("s1")] == [
        (0, "status"),
        (1, "node"),
    ]
    assert events.read("s1", after=1)[0]["node"] == "planning"
    assert events.store.ttl_s(events.key("s1")) == 86_400
