"""Test support, imported by tests and conftests (never by each other's test modules or conftests).

Helpers named for what they make: accounts, developers, apps, pkce, consent_flow, backchannel, grants,
world, data_api, school_keys, audit, smtp, demo, screenshots, cli, http, paths; and throwaway databases,
records, a real server process, a TCP proxy for fault injection.
"""
