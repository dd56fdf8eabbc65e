"""Exchange with other installations: sealed handover bundles and their acknowledgements
(`sealing`), the keys they are sealed with (`keys`)."""
