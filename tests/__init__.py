"""The project's tests: one package, imported as ``tests.<folder>.<module>`` from the repository root."""
