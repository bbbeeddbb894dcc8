import time
from datetime import UTC, datetime

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from omc.collectors.sec import SecCollector
from omc.db.models import Filing
from omc.runtime import Runtime
from tests.collectors.conftest import FIXTURES, runner_for
from tests.replay import ReplayServer, Reply

NOW = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)
AGENT = "OMC Test Research ops@example.com"
COINBASE = "/submissions/CIK0001679788.json"
STRATEGY = "/submissions/CIK0001050446.json"


class TimedTransport(httpx.AsyncHTTPTransport):
    """A real transport that notes when each request leaves."""

    def __init__(self) -> None:
        super().__init__()
        self.sent_at: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent_at.append(time.monotonic())
        return await super().handle_async_request(request)


def run(runtime: Runtime, transport: httpx.AsyncBaseTransport | None = None, **update):
    settings = runtime.settings.model_copy(
        update={"sec_user_agent": AGENT, "sec_ciks": ["1679788", "1050446"], **update}
    )
    collector = SecCollector(settings, transport=transport)
    return runner_for(runtime, clock=lambda: NOW).run(collector)


def serve(server: ReplayServer) -> None:
    server.add(COINBASE, Reply.file(FIXTURES / "sec" / "CIK0001679788.json"))
    server.add(STRATEGY, Reply.file(FIXTURES / "sec" / "CIK0001050446.json"))


def stored_filings(runtime: Runtime) -> dict[str, Filing]:
    with Session(runtime.engine) as session:
        return {f.accession_number: f for f in session.scalars(select(Filing))}


def test_run_stores_one_row_per_filing_of_every_watched_company(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    serve(replay_server)

    outcome = run(collector_runtime)

    assert (outcome.status, outcome.fetched, outcome.stored, outcome.skipped) == (
        "ok",
        9,
        7,
        2,
    )
    filings = stored_filings(collector_runtime)
    assert filings["0001679788-26-000004"].url == (
        "https://www.sec.gov/Archives/edgar/data/1679788/"
        "000167978826000004/coin-20260102.htm"
    )
    assert filings["0001193125-26-001234"].company == "Strategy Inc"
    assert filings["0001193125-26-001234"].cik == "0001050446"


def test_every_request_names_the_operator_in_the_user_agent(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    serve(replay_server)

    run(collector_runtime)

    assert [r.headers["user-agent"] for r in replay_server.requests] == [AGENT] * 2


def test_rerun_stores_nothing_new(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    serve(replay_server)
    run(collector_runtime)

    outcome = run(collector_runtime)

    assert (outcome.status, outcome.stored) == ("ok", 0)


def test_requests_stay_within_ten_a_second(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    ciks = [str(1_000_000 + n) for n in range(14)]
    for cik in ciks:
        replay_server.add(
            f"/submissions/CIK{cik.zfill(10)}.json",
            Reply.file(FIXTURES / "sec" / "CIK0001999999.json"),
        )
    transport = TimedTransport()

    outcome = run(collector_runtime, transport=transport, sec_ciks=ciks)

    assert outcome.status == "ok"
    sent = transport.sent_at
    assert len(sent) == 14
    # No eleven requests within any one second.
    assert all(sent[i + 10] - sent[i] >= 1.0 for i in range(len(sent) - 10))


def test_an_unknown_cik_is_skipped_and_the_others_are_stored(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(COINBASE, Reply.file(FIXTURES / "sec" / "CIK0001679788.json"))

    outcome = run(collector_runtime)

    assert (outcome.status, outcome.stored, outcome.skipped) == ("ok", 5, 2)


def test_without_a_user_agent_or_a_contact_the_collector_is_disabled(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    unset = run(collector_runtime, sec_user_agent=None)
    anonymous = run(collector_runtime, sec_user_agent="python-requests/2.32")

    assert unset.status == anonymous.status == "disabled"
    assert "OMC_SEC_USER_AGENT" in (unset.error or "")
    assert "contact email" in (anonymous.error or "")
    assert replay_server.requests == []
