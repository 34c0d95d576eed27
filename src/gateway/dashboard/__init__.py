"""The school admin's dashboard (`/dashboard/…`, SPEC §3.6): connected apps, narrow and revoke."""
