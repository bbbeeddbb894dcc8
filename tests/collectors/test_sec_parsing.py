from datetime import UTC, datetime

import pytest

from omc.collectors.errors import MalformedPayload
from omc.collectors.sec import normalise_cik, parse_submissions, submissions_path
from tests.fixtures import load_json

NOW = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)


def _records(name: str):
    page = parse_submissions(load_json("sec", name), collected_at=NOW)
    return page, {r.accession_number: r for r in page.records}


def test_columns_become_one_record_per_filing_with_a_document_link() -> None:
    _page, records = _records("CIK0001679788.json")

    filing = records["0001679788-26-000004"]
    assert filing.cik == "0001679788"
    assert filing.company == "Coinbase Global, Inc."
    assert filing.form == "8-K"
    assert filing.filed_at == datetime(2026, 1, 5, tzinfo=UTC)
    assert filing.accepted_at == datetime(2026, 1, 5, 16, 31, 7, tzinfo=UTC)
    assert filing.report_date == "2026-01-02"
    assert filing.url == (
        "https://www.sec.gov/Archives/edgar/data/1679788/"
        "000167978826000004/coin-20260102.htm"
    )


def test_empty_fields_become_none_and_a_missing_document_links_the_folder() -> None:
    _page, records = _records("CIK0001679788.json")

    filing = records["0000950170-25-012345"]
    assert filing.form == "SC 13G/A"
    assert filing.report_date is None
    assert filing.primary_document is None
    assert filing.description is None
    assert filing.url.endswith("/1679788/000095017025012345/")
    assert records["0001679788-25-000020"].description == "10-K & annual report"


def test_malformed_rows_are_skipped_and_counted() -> None:
    coinbase, _ = _records("CIK0001679788.json")
    strategy, records = _records("CIK0001050446.json")

    assert (len(coinbase.records), coinbase.skipped) == (5, 1)
    assert (len(strategy.records), strategy.skipped) == (2, 1)
    assert records["0001050446-25-000101"].primary_document == "d987654d424b5.htm"


def test_a_short_column_leaves_only_that_field_empty() -> None:
    payload = load_json("sec", "CIK0001050446.json")
    payload["filings"]["recent"]["primaryDocument"] = []

    page = parse_submissions(payload, collected_at=NOW)

    assert len(page.records) == 2
    assert all(r.primary_document is None for r in page.records)


def test_a_company_without_filings_has_no_records() -> None:
    page, _ = _records("CIK0001999999.json")

    assert (page.records, page.skipped) == ([], 0)


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"cik": "1", "filings": {}},
        {
            "cik": "x",
            "filings": {
                "recent": {"accessionNumber": [], "form": [], "filingDate": []}
            },
        },
    ],
)
def test_a_file_without_recent_columns_or_cik_is_a_payload_error(payload) -> None:
    with pytest.raises(MalformedPayload):
        parse_submissions(payload, collected_at=NOW)


def test_ciks_are_padded_to_ten_digits() -> None:
    assert normalise_cik("1679788") == "0001679788"
    assert submissions_path(320193) == "/submissions/CIK0000320193.json"
    with pytest.raises(ValueError, match="ten digits"):
        normalise_cik("12345678901")


def test_a_skipped_filing_is_logged_with_its_accession_number(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _records("CIK0001679788.json")

    (record,) = [
        r for r in caplog.records if r.getMessage() == "malformed item skipped"
    ]
    assert record.__dict__["item"] == "bad-accession"
    assert record.__dict__["collector"] == "sec"
