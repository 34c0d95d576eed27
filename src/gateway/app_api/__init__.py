"""The app's own endpoints (`/api/v1/app/…`, SPEC §3.6, §7): which schools granted it; disconnect."""
