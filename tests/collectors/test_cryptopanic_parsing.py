import logging
from datetime import UTC, datetime

import pytest

from omc.collectors.cryptopanic import next_cursor, parse_posts
from omc.collectors.errors import MalformedPayload
from tests.fixtures import load_json

NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def test_posts_page_becomes_records_with_votes_currencies_and_cursor() -> None:
    page = parse_posts(load_json("cryptopanic", "posts_page1.json"), collected_at=NOW)

    first, second, third = page.records
    assert first.post_id == "21450001"
    assert (
        first.title == "Bitcoin Tops $100K as ETF Inflows Surge & Shorts Get Squeezed"
    )
    assert first.published_at == datetime(2026, 1, 5, 14, 32, 10, tzinfo=UTC)
    assert first.currencies == ["BTC"]
    assert first.votes["positive"] == 12
    assert first.domain == "coindesk.com"
    assert first.sentiment is not None and first.sentiment > 0
    assert page.cursor == "public=true&page=2"


def test_numbers_as_strings_null_votes_and_repeated_codes_are_tidied() -> None:
    page = parse_posts(load_json("cryptopanic", "posts_page1.json"), collected_at=NOW)

    second = page.records[1]
    assert second.votes["negative"] == 2
    assert "important" not in second.votes
    assert second.currencies == ["ETH", "LDO"]
    assert second.title.startswith("Ethereum’s Pectra upgrade")


def test_missing_currencies_unicode_and_huge_counts_are_kept() -> None:
    page = parse_posts(load_json("cryptopanic", "posts_page1.json"), collected_at=NOW)

    third = page.records[2]
    assert third.currencies == []
    assert third.kind == "media"
    assert third.title.startswith("暗号資産市場")
    assert third.votes["negative"] == 9007199254740991


def test_items_without_title_or_with_a_bad_date_are_skipped_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)

    first = parse_posts(load_json("cryptopanic", "posts_page1.json"), collected_at=NOW)
    last = parse_posts(load_json("cryptopanic", "posts_page2.json"), collected_at=NOW)

    assert (len(first.records), first.skipped) == (3, 1)
    assert (len(last.records), last.skipped) == (1, 1)
    assert last.cursor is None
    assert last.records[0].title == (
        "SEC delays decision on Solana & XRP ETFs again – analysts shrug"
    )
    assert [r.message for r in caplog.records].count("malformed item skipped") == 2


def test_an_empty_page_has_no_records_and_no_cursor() -> None:
    page = parse_posts(load_json("cryptopanic", "posts_empty.json"), collected_at=NOW)

    assert page.records == []
    assert (page.skipped, page.cursor) == (0, None)


def test_the_cursor_never_carries_the_token() -> None:
    url = (
        "https://cryptopanic.com/api/v1/posts/?auth_token=SECRET123&public=true&page=3"
    )

    assert next_cursor(url) == "public=true&page=3"
    assert next_cursor(None) is None


@pytest.mark.parametrize("payload", [[], {"detail": "Token not found"}, "html"])
def test_a_page_without_results_is_a_payload_error(payload: object) -> None:
    with pytest.raises(MalformedPayload):
        parse_posts(payload, collected_at=NOW)
