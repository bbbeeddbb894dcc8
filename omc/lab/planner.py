"""A deterministic planner: common phrasings of a goal mapped onto a `Plan`.

It reads words and numbers out of the goal with fixed patterns and never evaluates
anything the goal contains. What it cannot find gets a default, except the coin and
the target, which it asks for.
"""

import re
from typing import Any

from pydantic import ValidationError

from omc.lab.plan import (
    ALL_FAMILIES,
    Clarification,
    ModelFamily,
    Plan,
    PlanOutcome,
    Source,
    TargetKind,
)

__all__ = ["COIN_ALIASES", "plan_goal"]

MAX_GOAL_CHARS = 2000

COIN_ALIASES: dict[str, str] = {
    "btc": "BTC",
    "bitcoin": "BTC",
    "xbt": "BTC",
    "eth": "ETH",
    "ether": "ETH",
    "ethereum": "ETH",
    "sol": "SOL",
    "solana": "SOL",
    "xrp": "XRP",
    "ripple": "XRP",
    "ada": "ADA",
    "cardano": "ADA",
    "doge": "DOGE",
    "dogecoin": "DOGE",
    "ltc": "LTC",
    "litecoin": "LTC",
    "dot": "DOT",
    "polkadot": "DOT",
    "avax": "AVAX",
    "avalanche": "AVAX",
    "link": "LINK",
    "chainlink": "LINK",
    "bnb": "BNB",
}

# Order matters: volatility and return words are checked before direction words,
# because "how much will it rise" asks for a size, not a sign.
_TARGET_PATTERNS: tuple[tuple[TargetKind, re.Pattern[str]], ...] = (
    ("volatility", re.compile(r"\b(volatil\w*|swings?|turbulen\w*|reali[sz]ed vol)\b")),
    (
        "return",
        re.compile(r"\b(returns?|how much|by how|percent\w*|price change|magnitude)\b"),
    ),
    (
        "direction",
        re.compile(
            r"\b(go(es|ing)? (up|down)|rise|rises|rising|fall|falls|falling|"
            r"up or down|direction|increase|decrease|drop|drops|climb|pump|dump|"
            r"higher|lower|bullish|bearish)\b"
        ),
    ),
)
_UNIT_WORDS = {
    "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "d": "d", "day": "d", "days": "d",
}  # fmt: skip
_HORIZON_NUMBER = re.compile(
    r"\b(?:next|in|over|within|ahead|horizon(?: of)?)?\s*(\d{1,4})\s*-?\s*"
    r"(m|mins?|minutes?|h|hrs?|hours?|d|days?)\b(?!\s*(?:of data|history|back))"
)
_HORIZON_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(next|an|the coming|within an?) hour\b|\bhourly\b"), "1h"),
    (
        re.compile(r"\b(next|over the next|the coming) (day|24 hours)\b|\btomorrow\b"),
        "24h",
    ),
    (re.compile(r"\b(next|over the next|the coming) week\b"), "7d"),
    (re.compile(r"\bdaily\b"), "24h"),
)
_WINDOW = re.compile(
    r"\b(?:last|past|previous|over)\s+(\d{1,4})\s+(days?|weeks?|months?|years?)\b"
)
_WINDOW_WORDS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"\b(last|past|previous) year\b"), 365),
    (re.compile(r"\b(last|past|previous) month\b"), 30),
    (re.compile(r"\b(last|past|previous) week\b"), 7),
)
_WINDOW_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
_SOURCE_WORDS: tuple[tuple[Source, re.Pattern[str]], ...] = (
    ("news", re.compile(r"\b(news|headlines?|cryptopanic)\b")),
    ("social", re.compile(r"\b(social|reddit|twitter|tweets?|posts?)\b")),
    ("tvl", re.compile(r"\b(tvl|defi|total value locked|on-?chain)\b")),
    ("filings", re.compile(r"\b(filings?|sec|edgar|10-?k|8-?k)\b")),
)
_FAMILY_WORDS: tuple[tuple[ModelFamily, re.Pattern[str]], ...] = (
    ("linear", re.compile(r"\b(linear|logistic|regression model|ridge)\b")),
    ("random_forest", re.compile(r"\b(random forests?|forests?)\b")),
    (
        "gradient_boosting",
        re.compile(r"\b(gradient boost\w*|boosted trees|gbm|xgboost)\b"),
    ),
)
_SEARCH = re.compile(r"\b(tune|tuning|hyper-?parameters?|grid search|search)\b")
_BUDGET = re.compile(
    r"\b(\d{1,5})\s*(s|secs?|seconds?|mins?|minutes?)\b(?=[^.]*\b(budget|search|tun))"
)
_SEED = re.compile(r"\bseed\s*(?:=|of|:)?\s*(\d{1,9})\b")
_ONLY_PRICES = re.compile(r"\b(prices? only|only (the )?prices?)\b")


def plan_goal(goal: str, *, defaults: dict[str, Any] | None = None) -> PlanOutcome:
    """Turn a goal in plain words into a plan, or a question when coin or target is missing.

    Args:
        goal: the user's words; only read, never run.
        defaults: plan fields to use when the goal does not say (e.g. a seed).
    """
    text = " ".join(goal.lower().split())[:MAX_GOAL_CHARS]
    coins = _find_coins(text)
    target = _find_target(text)
    missing: list[Any] = []
    if not coins:
        missing.append("coin")
    if target is None:
        missing.append("target")
    if missing:
        return Clarification(question=_question(missing), missing=missing)

    fields: dict[str, Any] = dict(defaults or {})
    fields.update(coins=coins, target=target)
    _put(fields, "horizon", _find_horizon(text))
    _put(fields, "window_days", _find_window_days(text))
    _put(fields, "sources", _find_sources(text))
    _put(fields, "families", _find_families(text))
    if _SEARCH.search(text):
        fields["search"] = True
    _put(fields, "search_budget_s", _find_budget_s(text))
    seed = _SEED.search(text)
    if seed:
        fields["seed"] = int(seed.group(1))
    try:
        return Plan(**fields)
    except ValidationError as exc:
        problems = "; ".join(str(error["msg"]) for error in exc.errors())
        return Clarification(
            question=f"I cannot plan that as asked ({problems}). Could you rephrase it?",
            missing=[],
        )


def _put(fields: dict[str, Any], name: str, value: object) -> None:
    if value is not None:
        fields[name] = value


def _question(missing: list[str]) -> str:
    if missing == ["coin"]:
        return "Which coin should I study, for example BTC or ETH?"
    if missing == ["target"]:
        return (
            "What should I predict: whether the price goes up (direction), by how "
            "much (return), or how much it swings (volatility)?"
        )
    return (
        "Which coin, and what should I predict? For example: "
        "'Will BTC go up over the next hour?' or 'ETH volatility over the next day'."
    )


def _find_coins(text: str) -> list[str]:
    found: list[str] = []
    for word in re.findall(r"[a-z]+", text):
        coin = COIN_ALIASES.get(word)
        # "link" and "dot" are ordinary words too; take them only next to a coin word.
        if word in {"link", "dot", "sol"} and not re.search(
            rf"\b{word}\b\s*(coin|token|price|usd)|\$\s*{word}\b", text
        ):
            continue
        if coin is not None and coin not in found:
            found.append(coin)
    return found[:5]


def _find_target(text: str) -> TargetKind | None:
    for kind, pattern in _TARGET_PATTERNS:
        if pattern.search(text):
            return kind
    return None


def _find_horizon(text: str) -> str | None:
    for pattern, horizon in _HORIZON_WORDS:
        if pattern.search(text):
            return horizon
    masked = _WINDOW.sub(" ", text)
    match = _HORIZON_NUMBER.search(masked)
    if match is None:
        return None
    amount, unit = int(match.group(1)), _UNIT_WORDS[match.group(2)]
    return f"{amount}{unit}" if amount > 0 else None


def _find_window_days(text: str) -> int | None:
    match = _WINDOW.search(text)
    if match is not None:
        unit = match.group(2).rstrip("s")
        return int(match.group(1)) * _WINDOW_UNIT_DAYS[unit]
    for pattern, days in _WINDOW_WORDS:
        if pattern.search(text):
            return days
    return None


def _find_sources(text: str) -> list[Source] | None:
    if _ONLY_PRICES.search(text):
        return ["prices"]
    named = [source for source, pattern in _SOURCE_WORDS if pattern.search(text)]
    return ["prices", *named] if named else None


def _find_families(text: str) -> list[ModelFamily] | None:
    named = [family for family, pattern in _FAMILY_WORDS if pattern.search(text)]
    if not named:
        return None
    return [family for family in ALL_FAMILIES if family in named]


def _find_budget_s(text: str) -> float | None:
    match = _BUDGET.search(text)
    if match is None:
        return None
    amount = float(match.group(1))
    return amount * 60 if match.group(2).startswith("m") else amount
