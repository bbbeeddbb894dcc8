"""SEC EDGAR: recent filings (8-K, 10-K, 10-Q, Form 4, S-1 ...) of watched companies.

`GET {base}/submissions/CIK##########.json` (the CIK zero padded to ten digits)
answers a company's metadata and its recent filings as parallel arrays under
`filings.recent`: the i-th accession number, form, date and document belong to
one filing. The parser turns those columns into one record per filing.
"""

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, ClassVar

from omc.collectors._pages import (
    ParsedPage,
    add_page,
    as_text,
    parse_items,
    parse_utc,
)
from omc.collectors.base import Collector, CollectResult
from omc.collectors.errors import MalformedItem, MalformedPayload, ProviderRejected
from omc.collectors.http import HttpClient
from omc.db.models.collectors import Filing

__all__ = [
    "ARCHIVES_URL",
    "SOURCE",
    "FilingRecord",
    "SecCollector",
    "normalise_cik",
    "parse_submissions",
    "submissions_path",
]

logger = logging.getLogger(__name__)

SOURCE = "sec"
# SEC's fair-access rule allows 10 requests a second per client; the spacing of
# the HTTP client keeps a margin below it.
SEC_MAX_REQUESTS_PER_S = 8.0
_CONTACT = re.compile(r"\S+@\S+\.\S+")
ARCHIVES_URL = "https://www.sec.gov/Archives/edgar/data"
_ACCESSION = re.compile(r"^\d{10}-\d{2}-\d{6}$")
_CIK = re.compile(r"^\d{1,10}$")
# Column of `filings.recent` -> field it feeds; the first three are required.
_COLUMNS = {
    "accessionNumber": "accession",
    "form": "form",
    "filingDate": "filing_date",
    "acceptanceDateTime": "accepted",
    "reportDate": "report_date",
    "primaryDocument": "document",
    "primaryDocDescription": "description",
}
_REQUIRED = ("accessionNumber", "form", "filingDate")


@dataclass(frozen=True)
class FilingRecord:
    """One row of `collectors.filings`."""

    accession_number: str
    cik: str
    company: str
    form: str
    filed_at: datetime
    accepted_at: datetime | None
    report_date: str | None
    primary_document: str | None
    description: str | None
    url: str
    collected_at: datetime


def normalise_cik(cik: str | int) -> str:
    """Return a CIK as EDGAR's ten-digit, zero-padded form.

    Raises:
        ValueError: the CIK is not one to ten digits.
    """
    text = str(cik).strip()
    if not _CIK.match(text):
        raise ValueError(f"CIK {text!r} must be one to ten digits")
    return text.zfill(10)


def submissions_path(cik: str | int) -> str:
    """The path of a company's submissions file, e.g. `/submissions/CIK0001679788.json`."""
    return f"/submissions/CIK{normalise_cik(cik)}.json"


def filing_url(cik: str, accession: str, document: str | None) -> str:
    """Link to a filing's main document, or to its folder when it names none."""
    folder = f"{ARCHIVES_URL}/{int(cik)}/{accession.replace('-', '')}"
    return f"{folder}/{document}" if document else f"{folder}/"


def parse_submissions(
    payload: Any, *, collected_at: datetime
) -> ParsedPage[FilingRecord]:
    """Turn a submissions file into one record per recent filing.

    Raises:
        PayloadError: the file lacks the company or the `filings.recent` columns.
    """
    if not isinstance(payload, Mapping):
        raise MalformedPayload("SEC answered with no JSON object")
    filings = payload.get("filings")
    recent = filings.get("recent") if isinstance(filings, Mapping) else None
    if not isinstance(recent, Mapping) or any(
        not isinstance(recent.get(name), list) for name in _REQUIRED
    ):
        raise MalformedPayload("SEC submissions file has no filings.recent columns")
    try:
        cik = normalise_cik(payload.get("cik", ""))
    except ValueError as exc:
        raise MalformedPayload(f"SEC submissions file has a bad cik: {exc}") from exc
    company = as_text(payload.get("name") or "", "name") or f"CIK {cik}"

    def parse(row: Mapping[str, Any]) -> FilingRecord:
        return _parse_row(row, cik=cik, company=company, collected_at=collected_at)

    return parse_items(
        _rows(recent), parse, source=SOURCE, key_of=lambda row: row.get("accession")
    )


def _rows(recent: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Zip the parallel columns into row objects; short columns leave gaps."""
    length = len(recent["accessionNumber"])
    rows: list[dict[str, Any]] = [{} for _ in range(length)]
    for column, field_name in _COLUMNS.items():
        values = recent.get(column)
        if not isinstance(values, list):
            continue
        for index, value in enumerate(values[:length]):
            rows[index][field_name] = value
    return rows


def _parse_row(
    row: Mapping[str, Any], *, cik: str, company: str, collected_at: datetime
) -> FilingRecord:
    accession = _text(row, "accession", "accessionNumber")
    if accession is None or not _ACCESSION.match(accession):
        raise MalformedItem(f"accession number {accession!r:.40} is malformed")
    form = _text(row, "form", "form")
    if form is None:
        raise MalformedItem(f"filing {accession} has no form type")
    document = _text(row, "document", "primaryDocument")
    accepted = _text(row, "accepted", "acceptanceDateTime")
    return FilingRecord(
        accession_number=accession,
        cik=cik,
        company=company,
        form=form,
        filed_at=_filing_day(row.get("filing_date"), accession),
        accepted_at=parse_utc(accepted, "acceptanceDateTime") if accepted else None,
        report_date=_report_date(row.get("report_date")),
        primary_document=document,
        description=_text(row, "description", "primaryDocDescription"),
        url=filing_url(cik, accession, document),
        collected_at=collected_at,
    )


def _text(row: Mapping[str, Any], key: str, column: str) -> str | None:
    """A column's text, None when the column is short, null or empty."""
    value = row.get(key)
    if value is None:
        return None
    return as_text(value, column) or None


def _filing_day(value: Any, accession: str) -> datetime:
    """The filing date as midnight UTC of that day (EDGAR gives only the date)."""
    if not isinstance(value, str):
        raise MalformedItem(f"filing {accession} has no filing date")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise MalformedItem(f"filing date {value!r:.40} is not YYYY-MM-DD") from None
    return datetime.combine(day, time(), tzinfo=UTC)


def _report_date(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return None


class SecCollector(Collector):
    """Recent filings of the companies in `OMC_SEC_CIKS`, one request per company."""

    name: ClassVar[str] = SOURCE
    max_requests_per_s: ClassVar[float | None] = SEC_MAX_REQUESTS_PER_S

    @property
    def cadence_s(self) -> int:
        """Seconds between runs (`OMC_SEC_CADENCE_S`)."""
        return self.settings.sec_cadence_s

    @property
    def base_url(self) -> str:
        """EDGAR's data host (`OMC_SEC_BASE_URL`)."""
        return self.settings.sec_base_url

    def headers(self) -> dict[str, str]:
        """SEC refuses clients that do not name their operator and a contact."""
        return {
            "User-Agent": self.settings.sec_user_agent or "",
            "Accept": "application/json",
        }

    def disabled_reason(self) -> str | None:
        """SEC's User-Agent rule and a valid watch list are both required."""
        agent = (self.settings.sec_user_agent or "").strip()
        if not agent:
            return (
                "OMC_SEC_USER_AGENT is not set: SEC requires the operator's name "
                "and a contact email, e.g. `Example Research ops@example.com`"
            )
        if not _CONTACT.search(agent):
            return "OMC_SEC_USER_AGENT must include a contact email address"
        for cik in self.settings.sec_ciks:
            try:
                normalise_cik(cik)
            except ValueError as exc:
                return f"OMC_SEC_CIKS: {exc}"
        return None

    async def collect(self, http: HttpClient, *, now: datetime) -> CollectResult:
        """Fetch each company's submissions file and keep its recent filings."""
        result = CollectResult()
        for cik in self.settings.sec_ciks:
            try:
                payload = await http.get_json(submissions_path(cik))
            except ProviderRejected as exc:
                if exc.status_code != 404:
                    raise
                # One unknown company must not cost the others their filings.
                result.fetched += 1
                result.skip(self.name, normalise_cik(cik), "EDGAR knows no such CIK")
                continue
            add_page(result, Filing, parse_submissions(payload, collected_at=now))
        return result
