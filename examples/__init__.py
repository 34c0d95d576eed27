"""Examples that drive the gateway from the outside, as third parties would."""
