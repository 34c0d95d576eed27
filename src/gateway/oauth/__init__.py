"""The authorisation server (SPEC §3.2-§3.4): authorize, consent, grants, codes, tokens, revocation."""
