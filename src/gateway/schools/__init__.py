"""Schools: the tenants. Every row of personal data belongs to exactly one school."""
