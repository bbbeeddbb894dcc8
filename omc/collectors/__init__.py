"""Collectors: fetch public sources, parse them into typed records, store them in bulk."""
