"""Outgoing mail: a transactional outbox and the worker that delivers it (SPEC §5: emailed reset links).

`outbox.enqueue` adds a message inside the caller's transaction, so mail goes out only if the change that
caused it commits. `sender.deliver_due` claims due messages and sends them through a transport
(`transports`: SMTP, or `.eml` files in development); `worker` runs it in the background. `addresses` and
`smtp_url` are pure and import nothing else of the gateway but the pure `gateway.hosts`, so `gateway.settings`
can use them.
"""
