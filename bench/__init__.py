"""Patchwork benchmarks: corpus, ingestion, reads at scale, live and push (see README)."""
