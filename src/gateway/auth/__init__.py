"""Authentication building blocks: passwords, second factors, opaque tokens."""
