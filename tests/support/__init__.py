"""Test support: throwaway databases, a real server process, a TCP proxy for fault injection."""
