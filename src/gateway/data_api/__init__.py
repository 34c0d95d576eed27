"""The data API (`/api/v1/…`, SPEC §3.5): records projected to granted fields and filtered to the audience."""
