"""A school's complete copy of its data (SPEC §3.8; issue 15, item 5): a zip with a checksummed manifest.

`service` starts, lists and reads a school's exports; `worker` runs `build` beside the app (claim, build,
heartbeat, ready), which writes the zip with `archive` (its files from `contents`) and seals it into the
database a chunk at a time (`chunks`); `download` hands a ready export out once; `retention` deletes what
has been downloaded, has expired or has failed. The operator's `gateway school export` writes the same zip
to a file (`gateway.cli.exports`).
"""
