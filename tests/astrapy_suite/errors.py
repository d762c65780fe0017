"""Error codes as astrapy surfaces them, read the same way whichever generation of names a server uses."""

from __future__ import annotations

from astrapy.exceptions import DataAPIHttpException, DataAPIResponseException

from localdev.stargate.data_api.exceptions import ErrorCode

# The real server renamed several codes in 2026 (COLLECTION_NOT_EXIST -> UNKNOWN_COLLECTION_OR_TABLE, ...);
# older Astra databases and Data API images still send the old names.
_CURRENT_NAME = {code.legacy_name: code.name for code in ErrorCode if code.legacy_name}


def error_codes(error: DataAPIResponseException | DataAPIHttpException) -> list[str]:
    """The ``errorCode`` of every error astrapy parsed from the answer, under their current names."""
    codes = [descriptor.error_code or "" for descriptor in error.error_descriptors]
    return [_CURRENT_NAME.get(code, code) for code in codes]
