"""The Stargate Document API v2 dialect (``/v2/...``): routes and handlers (``responses``), document
rules (``documents``), paths (``paths``), ``where`` filters (``filters``) and error bodies
(``exceptions``). The contract it emulates: ``docs/stores/document-api.md``.
"""
