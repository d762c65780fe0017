"""The emulator's shared core: what both API dialects stand on, and nothing dialect-specific.

SQLite access (``database``), the storage engine (``storage``), tokens and the auth API (``tokens``,
``auth``), health answers (``health``), requests, responses and routing (``routing``), JSON values
(``values``), paths (``paths``), filters (``filters``) and page states (``page_state``). The core
imports neither dialect.
"""
