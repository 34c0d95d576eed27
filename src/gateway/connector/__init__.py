"""MIS sync: the connector's API, keys and batch ingest (SPEC §3.7)."""
