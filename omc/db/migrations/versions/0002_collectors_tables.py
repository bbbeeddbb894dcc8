"""The collectors schema: collected data and run records.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from omc.db.types import UtcDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chain_tvl",
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("bucket_at", UtcDateTime(), nullable=False),
        sa.Column("token_symbol", sa.String(length=32), nullable=True),
        sa.Column("tvl_usd", sa.Float(precision=53), nullable=False),
        sa.Column("collected_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chain", "bucket_at", name=op.f("pk_chain_tvl")),
        schema="collectors",
    )
    op.create_table(
        "collector_locks",
        sa.Column("collector", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("acquired_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("collector", name=op.f("pk_collector_locks")),
        schema="collectors",
    )
    op.create_table(
        "collector_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collector", sa.String(length=32), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fetched", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collector_runs")),
        schema="collectors",
    )
    op.create_index(
        op.f("ix_collector_runs_collector"),
        "collector_runs",
        ["collector"],
        unique=False,
        schema="collectors",
    )
    op.create_index(
        op.f("ix_collector_runs_started_at"),
        "collector_runs",
        ["started_at"],
        unique=False,
        schema="collectors",
    )
    op.create_table(
        "filings",
        sa.Column("accession_number", sa.String(length=32), nullable=False),
        sa.Column("cik", sa.String(length=10), nullable=False),
        sa.Column("company", sa.String(length=256), nullable=False),
        sa.Column("form", sa.String(length=32), nullable=False),
        sa.Column("filed_at", UtcDateTime(), nullable=False),
        sa.Column("accepted_at", UtcDateTime(), nullable=True),
        sa.Column("report_date", sa.String(length=10), nullable=True),
        sa.Column("primary_document", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("collected_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("accession_number", name=op.f("pk_filings")),
        schema="collectors",
    )
    op.create_index(
        op.f("ix_filings_cik"), "filings", ["cik"], unique=False, schema="collectors"
    )
    op.create_index(
        op.f("ix_filings_filed_at"),
        "filings",
        ["filed_at"],
        unique=False,
        schema="collectors",
    )
    op.create_index(
        op.f("ix_filings_form"), "filings", ["form"], unique=False, schema="collectors"
    )
    op.create_table(
        "news_posts",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("post_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("domain", sa.String(length=256), nullable=True),
        sa.Column("published_at", UtcDateTime(), nullable=False),
        sa.Column("currencies", sa.JSON(), nullable=False),
        sa.Column("votes", sa.JSON(), nullable=False),
        sa.Column("sentiment", sa.Float(precision=53), nullable=True),
        sa.Column("collected_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", "post_id", name=op.f("pk_news_posts")),
        schema="collectors",
    )
    op.create_index(
        op.f("ix_news_posts_published_at"),
        "news_posts",
        ["published_at"],
        unique=False,
        schema="collectors",
    )
    op.create_table(
        "ohlcv",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("coin", sa.String(length=32), nullable=False),
        sa.Column("timeframe", sa.String(length=8), nullable=False),
        sa.Column("ts", UtcDateTime(), nullable=False),
        sa.Column("open", sa.Float(precision=53), nullable=False),
        sa.Column("high", sa.Float(precision=53), nullable=False),
        sa.Column("low", sa.Float(precision=53), nullable=False),
        sa.Column("close", sa.Float(precision=53), nullable=False),
        sa.Column("volume", sa.Float(precision=53), nullable=False),
        sa.Column("collected_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "source", "coin", "timeframe", "ts", name=op.f("pk_ohlcv")
        ),
        schema="collectors",
    )
    op.create_table(
        "price_snapshots",
        sa.Column("exchange", sa.String(length=32), nullable=False),
        sa.Column("coin", sa.String(length=32), nullable=False),
        sa.Column("bucket_at", UtcDateTime(), nullable=False),
        sa.Column("quote", sa.String(length=16), nullable=False),
        sa.Column("bid", sa.Float(precision=53), nullable=True),
        sa.Column("ask", sa.Float(precision=53), nullable=True),
        sa.Column("last", sa.Float(precision=53), nullable=True),
        sa.Column("collected_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "exchange", "coin", "bucket_at", name=op.f("pk_price_snapshots")
        ),
        schema="collectors",
    )
    op.create_table(
        "protocol_tvl",
        sa.Column("slug", sa.String(length=128), nullable=False),
        sa.Column("bucket_at", UtcDateTime(), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("chains", sa.JSON(), nullable=False),
        sa.Column("tvl_usd", sa.Float(precision=53), nullable=True),
        sa.Column("change_1h_pct", sa.Float(precision=53), nullable=True),
        sa.Column("change_1d_pct", sa.Float(precision=53), nullable=True),
        sa.Column("change_7d_pct", sa.Float(precision=53), nullable=True),
        sa.Column("mcap_usd", sa.Float(precision=53), nullable=True),
        sa.Column("collected_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("slug", "bucket_at", name=op.f("pk_protocol_tvl")),
        schema="collectors",
    )
    op.create_table(
        "social_posts",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("post_id", sa.String(length=64), nullable=False),
        sa.Column("community", sa.String(length=128), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=True),
        sa.Column("flair", sa.String(length=256), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("upvote_ratio", sa.Float(precision=53), nullable=True),
        sa.Column("num_comments", sa.Integer(), nullable=False),
        sa.Column("sentiment", sa.Float(precision=53), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=False),
        sa.Column("collected_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", "post_id", name=op.f("pk_social_posts")),
        schema="collectors",
    )
    op.create_index(
        op.f("ix_social_posts_community"),
        "social_posts",
        ["community"],
        unique=False,
        schema="collectors",
    )
    op.create_index(
        op.f("ix_social_posts_published_at"),
        "social_posts",
        ["published_at"],
        unique=False,
        schema="collectors",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_social_posts_published_at"),
        table_name="social_posts",
        schema="collectors",
    )
    op.drop_index(
        op.f("ix_social_posts_community"),
        table_name="social_posts",
        schema="collectors",
    )
    op.drop_table("social_posts", schema="collectors")
    op.drop_table("protocol_tvl", schema="collectors")
    op.drop_table("price_snapshots", schema="collectors")
    op.drop_table("ohlcv", schema="collectors")
    op.drop_index(
        op.f("ix_news_posts_published_at"), table_name="news_posts", schema="collectors"
    )
    op.drop_table("news_posts", schema="collectors")
    op.drop_index(op.f("ix_filings_form"), table_name="filings", schema="collectors")
    op.drop_index(
        op.f("ix_filings_filed_at"), table_name="filings", schema="collectors"
    )
    op.drop_index(op.f("ix_filings_cik"), table_name="filings", schema="collectors")
    op.drop_table("filings", schema="collectors")
    op.drop_index(
        op.f("ix_collector_runs_started_at"),
        table_name="collector_runs",
        schema="collectors",
    )
    op.drop_index(
        op.f("ix_collector_runs_collector"),
        table_name="collector_runs",
        schema="collectors",
    )
    op.drop_table("collector_runs", schema="collectors")
    op.drop_table("collector_locks", schema="collectors")
    op.drop_table("chain_tvl", schema="collectors")
