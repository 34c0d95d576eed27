"""The grants of `POST /oauth/token` (RFC 6749 §4.1.3, §6, §4.4), one module each, dispatched from a table.

`base` holds what they share (the grant-type names, the parsed context, the response); `dispatch` maps
each `grant_type` to its module's `handle`, which parses its own typed request from the form once.
"""
