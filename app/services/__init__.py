"""Business rules and transaction boundaries, one module per domain; no Flask request, no XML."""
