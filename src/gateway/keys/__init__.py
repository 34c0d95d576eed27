"""Key material: the master key (and, later, signing keys and per-school data keys)."""
