"""Pages and static assets served by the gateway itself (no CDN, no third-party scripts)."""
