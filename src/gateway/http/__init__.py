"""HTTP plumbing without domain rules: request context, security headers, content types."""
