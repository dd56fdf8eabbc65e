"""The HTTP API (Litestar): translates HTTP to commands and queries; no domain logic."""
