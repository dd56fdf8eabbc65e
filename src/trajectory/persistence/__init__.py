"""Storage: how events are mapped to bytes, and the recorders that write them.

Events, snapshots, the trajectory index, the access log and idempotency records live in
one database (an SQLite file by default, PostgreSQL in production).
"""
