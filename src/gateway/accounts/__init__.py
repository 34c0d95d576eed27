"""School admins: accounts, passwords, second factor, sessions, emailed links (SPEC §1, §5)."""
