"""Collectors: fetch public market data, store it in bulk, record every run."""
