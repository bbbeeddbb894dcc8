from datetime import UTC, datetime

import pytest

from omc.collectors.errors import MalformedPayload, ProviderErrorBody
from omc.collectors.reddit import parse_listing, parse_token
from omc.collectors.sentiment import score_text
from tests.fixtures import load_json

NOW = datetime(2026, 1, 5, 16, 0, tzinfo=UTC)


def _page(name: str):
    return parse_listing(load_json("reddit", name), collected_at=NOW)


def test_listing_becomes_records_keyed_by_fullname_with_after_cursor() -> None:
    page = _page("new_page1.json")

    first = page.records[0]
    assert first.post_id == "t3_1hq0a01"
    assert first.community == "CryptoCurrency"
    assert (
        first.title
        == "Bitcoin just hit a new all-time high & my portfolio is finally great again 🚀"
    )
    assert first.author == "satoshi_fan_42"
    assert first.flair == "GENERAL-NEWS"
    assert (first.score, first.upvote_ratio, first.num_comments) == (1532, 0.94, 211)
    assert first.published_at == datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    assert first.url.startswith("https://www.reddit.com/r/CryptoCurrency/comments/")
    assert page.cursor == "t3_1hq0a04"


def test_sentiment_is_the_vader_compound_of_title_and_text() -> None:
    records = {r.post_id: r for r in _page("new_page1.json").records}

    first = records["t3_1hq0a01"]
    assert first.sentiment == score_text(f"{first.title}\n{first.body}")
    assert first.sentiment > 0
    assert records["t3_1hq0a02"].sentiment < 0
    assert -1 <= records["t3_1hq0a03"].sentiment <= 1


def test_deleted_author_and_removed_text_become_empty() -> None:
    records = {r.post_id: r for r in _page("new_page1.json").records}
    removed = {r.post_id: r for r in _page("new_page2.json").records}

    assert records["t3_1hq0a02"].author is None
    assert records["t3_1hq0a02"].body == ""
    assert records["t3_1hq0a04"].author is None
    assert records["t3_1hq0a04"].upvote_ratio is None
    assert records["t3_1hq0a04"].flair is None
    assert removed["t3_1hq0a05"].body == ""


def test_strings_for_numbers_and_entities_in_flair_and_text_are_decoded() -> None:
    post = {r.post_id: r for r in _page("new_page1.json").records}["t3_1hq0a03"]

    assert (post.score, post.upvote_ratio, post.num_comments) == (17, 0.67, 9)
    assert post.flair == "<3 Staking & Yield"
    assert post.body == "Asking for a friend > genuinely curious.\n\nRates look <3%."


def test_non_submissions_missing_times_and_huge_scores_are_skipped() -> None:
    first, last = _page("new_page1.json"), _page("new_page2.json")

    assert (len(first.records), first.skipped) == (4, 1)
    assert (len(last.records), last.skipped) == (1, 2)
    assert last.cursor is None


def test_an_empty_listing_has_no_records_and_no_cursor() -> None:
    page = _page("new_empty.json")

    assert (page.records, page.skipped, page.cursor) == ([], 0, None)


def test_a_non_listing_is_a_payload_error() -> None:
    with pytest.raises(MalformedPayload):
        parse_listing({"message": "Forbidden", "error": 403}, collected_at=NOW)


def test_token_answer_gives_the_bearer_and_its_lifetime() -> None:
    token = parse_token(load_json("reddit", "access_token.json"))

    assert token.value.startswith("eyJ")
    assert token.expires_in_s == 86400


def test_a_token_answer_without_a_token_is_an_error_naming_the_settings() -> None:
    with pytest.raises(ProviderErrorBody, match="OMC_REDDIT_CLIENT_ID"):
        parse_token({"error": "invalid_grant"})


def test_a_skipped_item_is_logged_with_its_fullname_and_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _page("new_page1.json")

    (record,) = [
        r for r in caplog.records if r.getMessage() == "malformed item skipped"
    ]
    assert record.__dict__["item"] == "t1_kx12345"
    assert "not a submission" in record.__dict__["reason"]
