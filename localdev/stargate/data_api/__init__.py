"""The Astra Data API dialect (``/api/json/v1/...``): the HTTP endpoint (``responses``), its commands
(``commands``), documents (``documents``), filters (``filters``), updates (``updates``), projection
and sort (``query``) and error codes (``exceptions``). The contract it emulates:
``docs/stores/data-api.md``.
"""
