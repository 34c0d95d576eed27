"""MIS records: DfE code sets, UK identifier checks, record schemas and connector sync (SPEC §3.7)."""
