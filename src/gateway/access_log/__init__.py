"""The data-access log (SPEC §3.5): one row per data API response — who received which fields, when."""
