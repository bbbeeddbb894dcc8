import json
from datetime import UTC, datetime
from pathlib import Path

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from omc.collectors.defillama import CHAINS_PATH, PROTOCOLS_PATH, DefiLlamaCollector
from omc.collectors.runner import latest_cache_key
from omc.db.models import ChainTvl, ProtocolTvl
from omc.runtime import Runtime
from tests.collectors.conftest import FIXTURES, runner_for, runs_of
from tests.fixtures.defillama.generate_protocols import write_protocols
from tests.replay import ReplayServer, Reply

NOW = datetime(2026, 12, 3, 13, 42, 7, tzinfo=UTC)
BUCKET = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
CHAINS = FIXTURES / "defillama" / "chains.json"
PROTOCOLS = FIXTURES / "defillama" / "protocols.json"


def run_defillama(runtime: Runtime):
    return runner_for(runtime, clock=lambda: NOW).run(
        DefiLlamaCollector(runtime.settings)
    )


def serve_fixtures(server: ReplayServer, protocols: Path = PROTOCOLS) -> None:
    server.add(CHAINS_PATH, Reply.file(CHAINS))
    server.add(PROTOCOLS_PATH, Reply.file(protocols))


def chains(runtime: Runtime) -> dict[str, ChainTvl]:
    with Session(runtime.engine) as session:
        return {row.chain: row for row in session.scalars(select(ChainTvl))}


def protocols(runtime: Runtime) -> dict[str, ProtocolTvl]:
    with Session(runtime.engine) as session:
        return {row.slug: row for row in session.scalars(select(ProtocolTvl))}


def test_run_stores_chain_and_protocol_tvl_and_skips_malformed_items(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    serve_fixtures(replay_server)

    outcome = run_defillama(collector_runtime)

    assert (outcome.status, outcome.fetched, outcome.stored, outcome.skipped) == (
        "ok",
        18,
        13,
        5,
    )
    stored_chains = chains(collector_runtime)
    assert sorted(stored_chains) == [
        "Ethereum",
        "Huge",
        "Solana",
        "Sonic Testnet",
        "zkSync Era",
        "Ψ-Chain 链",
    ]
    assert stored_chains["Solana"].tvl_usd == 9876543210.5
    assert stored_chains["Sonic Testnet"].token_symbol is None
    assert stored_chains["Ψ-Chain 链"].token_symbol == "ΣΤ"
    assert stored_chains["Ethereum"].bucket_at == BUCKET


def test_protocol_rows_keep_the_fields_in_their_awkward_forms(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    serve_fixtures(replay_server)

    run_defillama(collector_runtime)

    stored = protocols(collector_runtime)
    assert sorted(stored) == [
        "aave-v3",
        "binance-cex",
        "chainless-vault",
        "curve-dex",
        "huge-protocol",
        "tiny",
        "uniswap-v3",
    ]
    uniswap = stored["uniswap-v3"]
    assert (uniswap.name, uniswap.symbol, uniswap.category) == (
        "Uniswap V3",
        "UNI",
        "Dexs",
    )
    assert uniswap.chains == ["Ethereum", "Arbitrum", "Polygon", "Base"]
    assert (uniswap.change_1h_pct, uniswap.change_1d_pct, uniswap.change_7d_pct) == (
        0.1234,
        -1.5,
        3.25,
    )
    assert stored["binance-cex"].symbol is None
    assert stored["binance-cex"].change_1h_pct is None
    assert stored["aave-v3"].change_1d_pct == 2.5
    assert stored["curve-dex"].name == "Curve DEX ⚡ 曲线"
    assert stored["curve-dex"].category is None
    assert stored["curve-dex"].mcap_usd == 0
    assert stored["chainless-vault"].chains == []
    assert stored["chainless-vault"].tvl_usd is None
    assert stored["huge-protocol"].mcap_usd == 1.2345678901234568e29
    assert (stored["tiny"].symbol, stored["tiny"].category) == (None, None)


def test_rerun_of_the_same_answers_stores_nothing_new(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    serve_fixtures(replay_server)
    run_defillama(collector_runtime)

    outcome = run_defillama(collector_runtime)

    assert (outcome.status, outcome.stored) == ("ok", 0)
    runs = runs_of(collector_runtime.engine, "defillama")
    assert [(r.status, r.stored) for r in runs] == [("ok", 13), ("ok", 0)]


def test_run_caches_chain_tvl(
    collector_runtime: Runtime, replay_server: ReplayServer, redis_url: str
) -> None:
    serve_fixtures(replay_server)

    run_defillama(collector_runtime)

    client = redis.Redis.from_url(redis_url, db=0, decode_responses=True)
    cached = json.loads(client.get(latest_cache_key("defillama")) or "{}")
    assert cached["values"]["chains"]["Ethereum"] == 61234567890.123
    assert cached["values"]["protocols"] == 7


def test_an_empty_protocol_list_is_a_successful_run(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(CHAINS_PATH, Reply.file(FIXTURES / "defillama" / "empty.json"))
    replay_server.add(PROTOCOLS_PATH, Reply.file(FIXTURES / "defillama" / "empty.json"))

    outcome = run_defillama(collector_runtime)

    assert (outcome.status, outcome.fetched, outcome.stored) == ("ok", 0, 0)


def test_a_truncated_protocol_list_fails_the_run_and_stores_nothing(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(CHAINS_PATH, Reply.file(CHAINS))
    replay_server.add(PROTOCOLS_PATH, Reply(body=PROTOCOLS.read_bytes()[:-200]))

    outcome = run_defillama(collector_runtime)

    assert outcome.status == "failed"
    assert "not a readable JSON array" in (outcome.error or "")
    assert chains(collector_runtime) == {}


def test_chains_that_are_not_a_list_fail_the_run(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(CHAINS_PATH, Reply.json({"error": "oops"}))

    outcome = run_defillama(collector_runtime)

    assert outcome.status == "failed"
    assert "is not a JSON array" in (outcome.error or "")


def test_a_large_protocol_list_is_streamed_and_stored_whole(
    collector_runtime: Runtime, replay_server: ReplayServer, tmp_path: Path
) -> None:
    big = tmp_path / "protocols.json"
    size_bytes = write_protocols(big, count=4000)
    serve_fixtures(replay_server, protocols=big)

    outcome = run_defillama(collector_runtime)

    assert size_bytes > 5_000_000
    assert (outcome.status, outcome.skipped) == ("ok", 2)
    assert len(protocols(collector_runtime)) == 4000
