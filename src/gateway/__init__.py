"""The gateway: an OAuth 2 authorisation server and data proxy for UK school data."""

__version__ = "0.1.0"

__all__ = ["__version__"]
