"""Deployment settings, read once from CDK context (``cdk.json`` or ``-c key=value``) and validated.

Every key, its default and its rule live here. ``cdk.json`` repeats the defaults so that a reader sees
them next to the app; a test keeps the two equal. A bad value stops the synth with an error that names
the key, before any construct is built.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal, cast
from urllib.parse import urlsplit

from cdk_app.retention import RETENTION_PERIODS
from orders_api.names import (
    DATA_API,
    DEFAULT_COLLECTION,
    DEFAULT_STORE_API,
    DOCUMENT_API,
    STORE_APIS,
    StoreApi,
)

ApiAuth = Literal["iam", "jwt", "none"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

API_AUTH_MODES: Final[tuple[ApiAuth, ...]] = ("iam", "jwt", "none")
LOG_LEVELS: Final[tuple[LogLevel, ...]] = ("DEBUG", "INFO", "WARNING", "ERROR")
# CodeDeploy's traffic-shifting configurations (cdk_app/release.py maps each to CodeDeploy's own).
DEPLOYMENTS: Final[tuple[str, ...]] = (
    "allAtOnce",
    "canary10Percent5Minutes",
    "canary10Percent10Minutes",
    "canary10Percent30Minutes",
    "linear10PercentEvery1Minute",
    "linear10PercentEvery3Minutes",
    "linear10PercentEvery10Minutes",
)

# Visibly a placeholder (no database is called DATABASE_ID). Synth accepts it, so CI needs no flags;
# the stack carries a warning until a real URL is given with -c storeUrl=...
PLACEHOLDER_STORE_URL: Final = "https://DATABASE_ID-REGION.apps.astra.datastax.com/api/json"
# The path each store API is served under on Astra. The embedded local server serves the Data API under
# /api/json too, but its Document API at the root (/v2/...), as a self-hosted Stargate does.
API_PATHS: Final[Mapping[StoreApi, str]] = {DATA_API: "/api/json", DOCUMENT_API: "/api/rest"}

# Stages deploy side by side as stacks OrdersApi-<stage>. A stage's block in "stages" sets its own
# values for any setting; they win over the top-level ones (which -c key=value also sets).
DEFAULT_STAGE: Final = "dev"
# The app's stack; deployed as OrdersApi-<stage>.
STACK_NAME: Final = "OrdersApi"
STAGE_SETTINGS: Final[Mapping[str, Mapping[str, object]]] = {
    "dev": {},
    "prod": {
        "memorySize": 1024,
        "logRetentionDays": 90,
        "throttleRateLimit": 100,
        "throttleBurstLimit": 200,
        "deployment": "canary10Percent5Minutes",
    },
}

DEFAULTS: Final[Mapping[str, object]] = {
    "stage": DEFAULT_STAGE,
    "stages": STAGE_SETTINGS,
    "storeUrl": PLACEHOLDER_STORE_URL,
    "storeAuthUrl": "",
    "storeNamespace": "default_keyspace",
    "storeCollection": DEFAULT_COLLECTION,
    "storeApi": DEFAULT_STORE_API,
    # storeApi=documents: the function's reserved concurrency. The Document API has no conditional
    # writes, so one execution environment (1) is what keeps two changes of one order from both
    # succeeding at the same time; higher allows the anomalies docs/stores/document-api.md lists, and 0
    # reserves nothing (Lambda scales freely). Not used with the Data API, which compares and sets.
    "documentStoreConcurrency": 1,
    "existingSecret": "",
    # The customer-managed KMS key an existing secret is encrypted with (empty: AWS managed key).
    "existingSecretKmsKey": "",
    # Keep the token secret when the stack is destroyed: a destroy should not also throw away the token.
    "retainSecret": True,
    "apiAuth": "iam",
    # apiAuth=jwt: an external OpenID Connect issuer and the audiences its tokens carry (empty: the stack
    # creates a Cognito user pool, cdk_app/sign_in.py).
    "jwtIssuer": "",
    "jwtAudience": [],
    # IAM roles or users (ARNs) that act on every order; every other caller reaches only its own.
    "adminPrincipals": [],
    "throttleRateLimit": 50,
    "throttleBurstLimit": 100,
    # Memory also buys CPU: the cold start imports pydantic-core and Powertools, which is CPU-bound and
    # clearly slower at 128-256 MB, while a request itself needs little memory.
    "memorySize": 512,
    "logRetentionDays": 30,
    "logLevel": "INFO",
    "alarmEmail": "",
    "corsAllowOrigins": [],
    # Lambda SnapStart for published versions: init runs once per version, environments restore from
    # a snapshot (orders_api/snapstart.py keeps connections and secrets out of it). Billed per use.
    "snapStart": False,
    # How CodeDeploy moves traffic to a new version (cdk_app/release.py): allAtOnce, canary... or linear...
    "deployment": "allAtOnce",
    # X-Ray tracing (orders_api/xray.py: subsegments sent to Lambda's X-Ray daemon, no X-Ray SDK).
    "tracing": True,
    # The function's byte code (cdk_app/bundling.py): "required" stops a synth that finds no CPython of
    # the runtime's version to compile it, "optional" ships source only then, with a note; empty means
    # required for the prod stage and optional for the others.
    "byteCode": "",
    # Swagger UI at /docs and the API's OpenAPI document at /docs/openapi.json, served without sign-in
    # by a small function of its own (cdk_app/swagger_ui.py). Off unless asked for: anyone who knows
    # the URL can then read the document (never an order: every order route still needs apiAuth's).
    "swaggerUi": False,
}

# The names some keys had before; each is still read, with a warning, when its new key is not given
# (or only has its default, as cdk.json gives it). New key -> former key.
FORMER_KEYS: Final[Mapping[str, str]] = {
    "storeUrl": "stargateUrl",
    "storeAuthUrl": "stargateAuthUrl",
    "storeNamespace": "stargateNamespace",
    "storeCollection": "stargateCollection",
}

_IDENTIFIER = re.compile(r"[A-Za-z0-9_]{1,48}")
# Part of the stack name and of resource names: lower-case, short.
_STAGE = re.compile(r"[a-z][a-z0-9-]{0,19}")
_SECRET_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")
# A complete secret ARN ends in the six characters Secrets Manager appends to the name.
_SECRET_ARN = re.compile(
    r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}"
)
_KMS_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]{1,128}")
_PRINCIPAL = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:(role|user)/[A-Za-z0-9+=,.@_/-]{1,512}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


# Context keys other tools put there: the CDK's feature flags (@aws-cdk/...), its own settings (aws:cdk:...)
# and cached lookups (availability-zones:account=...:region=...), acknowledged notices.
_FOREIGN_KEY = re.compile(r"^@|:|^acknowledged-issue-numbers$")
# Read by cdk_app/stack.py, only for `make deploy-github-role`.
OTHER_KEYS: Final = ("githubRepo", "githubProviderExists")


def unknown_keys(keys: Iterable[str]) -> dict[str, str]:
    """The given context keys this app does not read, each with what it may have meant to be: a
    misspelled key (``-c apiauth=jwt``) would otherwise be ignored and its default deployed."""
    known = {*DEFAULTS, *FORMER_KEYS.values(), *OTHER_KEYS}
    by_lower = {key.lower(): key for key in known}
    problems: dict[str, str] = {}
    for key in keys:
        if key in known or _FOREIGN_KEY.search(key):
            continue
        guess = by_lower.get(key.lower()) or next(
            iter(difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)), None
        )
        hint = f"did you mean {guess}?" if guess else "see docs/configuration.md for the settings"
        problems[key] = f"is not a setting of this app; {hint}"
    return problems


class ConfigError(ValueError):
    """One or more context keys are missing or invalid; ``keys`` lists them, the message explains each."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.keys = tuple(problems)
        super().__init__("; ".join(f"{key}: {problem}" for key, problem in problems.items()))


@dataclass(frozen=True)
class OrdersApiConfig:
    """Everything the stack needs to know, already checked."""

    stage: str
    store_url: str
    store_auth_url: str | None
    store_namespace: str
    store_collection: str
    store_api: StoreApi
    document_store_concurrency: int
    existing_secret: str | None
    existing_secret_kms_key: str | None
    retain_secret: bool
    api_auth: ApiAuth
    admin_principals: tuple[str, ...]
    jwt_issuer: str | None
    jwt_audience: tuple[str, ...]
    throttle_rate_limit: float
    throttle_burst_limit: int
    memory_size: int
    log_retention_days: int
    log_level: LogLevel
    alarm_email: str | None
    cors_allow_origins: tuple[str, ...]
    tracing: bool
    deployment: str
    snap_start: bool
    byte_code: Literal["required", "optional"]
    swagger_ui: bool = False
    # What the stack should warn about without refusing the settings (a former key's name, for now).
    warnings: tuple[str, ...] = ()

    @property
    def reserved_concurrency(self) -> int | None:
        """The function's reserved concurrency: only for the Document API store (None: unreserved)."""
        if self.store_api != "documents" or self.document_store_concurrency == 0:
            return None
        return self.document_store_concurrency

    @property
    def uses_placeholder_url(self) -> bool:
        """True while the store URL is still the placeholder from ``cdk.json``."""
        return self.store_url == PLACEHOLDER_STORE_URL

    @property
    def api_path_mismatch(self) -> str | None:
        """Why ``store_url`` looks like it is meant for the other store API, or None."""
        for store_api, path in API_PATHS.items():
            if store_api != self.store_api and self.store_url.endswith(path):
                return (
                    f"storeUrl ends in {path}, where the {store_api} API is served, but storeApi is "
                    f"{self.store_api}; the {self.store_api} API is under {API_PATHS[self.store_api]}"
                )
        return None

    @classmethod
    def from_context(
        cls, try_get_context: Callable[[str], object], given: Iterable[str] = ()
    ) -> OrdersApiConfig:
        """Read every key (falling back to ``DEFAULTS``); raise ConfigError naming each bad key, and each
        of the ``given`` keys (every key of the context) that is not a setting."""
        stage, overrides, problems = _stage(try_get_context)
        problems.update(unknown_keys(given))
        reader = _Reader(lambda key: overrides[key] if key in overrides else try_get_context(key))
        reader.read_former_keys()
        reader.problems.update(problems)
        config = cls(
            stage=stage,
            store_url=reader.url("storeUrl", required=True) or "",
            store_auth_url=reader.url("storeAuthUrl", required=False),
            store_namespace=reader.identifier("storeNamespace"),
            store_collection=reader.identifier("storeCollection"),
            store_api=cast(StoreApi, reader.choice("storeApi", STORE_APIS)),
            document_store_concurrency=int(
                reader.number("documentStoreConcurrency", minimum=0, maximum=1000, whole=True)
            ),
            existing_secret=reader.secret("existingSecret"),
            existing_secret_kms_key=reader.kms_key("existingSecretKmsKey"),
            retain_secret=reader.flag("retainSecret"),
            api_auth=cast(ApiAuth, reader.choice("apiAuth", API_AUTH_MODES)),
            admin_principals=reader.principals("adminPrincipals"),
            # Exactly as given: the authorizer compares it with the tokens' "iss" (Auth0's ends in "/").
            jwt_issuer=reader.text("jwtIssuer") or None,
            jwt_audience=reader.names("jwtAudience"),
            throttle_rate_limit=reader.number("throttleRateLimit", minimum=1, maximum=10_000),
            throttle_burst_limit=int(
                reader.number("throttleBurstLimit", minimum=1, maximum=5_000, whole=True)
            ),
            memory_size=int(reader.number("memorySize", minimum=128, maximum=10_240, whole=True)),
            log_retention_days=reader.retention("logRetentionDays"),
            log_level=cast(LogLevel, reader.choice("logLevel", LOG_LEVELS, case="upper")),
            alarm_email=reader.email("alarmEmail"),
            cors_allow_origins=reader.origins("corsAllowOrigins"),
            tracing=reader.flag("tracing"),
            deployment=reader.choice("deployment", DEPLOYMENTS, case="exact"),
            snap_start=reader.flag("snapStart"),
            byte_code=_byte_code(reader, stage),
            swagger_ui=reader.flag("swaggerUi"),
            warnings=tuple(reader.warnings),
        )
        if config.jwt_issuer and not config.jwt_audience:
            reader.problems["jwtAudience"] = (
                "goes with jwtIssuer: the audiences (client ids) its tokens carry"
            )
        if config.jwt_issuer and not (
            config.jwt_issuer.startswith("https://") and urlsplit(config.jwt_issuer).netloc
        ):
            reader.problems["jwtIssuer"] = "must be an https URL (the issuer's OpenID Connect discovery base)"
        if config.existing_secret_kms_key and not config.existing_secret:
            reader.problems["existingSecretKmsKey"] = (
                "goes with existingSecret (the stack's own secret needs none)"
            )
        if reader.problems:
            raise ConfigError(reader.problems)
        return config


def _byte_code(reader: _Reader, stage: str) -> Literal["required", "optional"]:
    value = reader.text("byteCode").lower()
    if not value:
        return "required" if stage == "prod" else "optional"
    return cast(Literal["required", "optional"], reader.choice("byteCode", ("required", "optional")))


def _stage(
    try_get_context: Callable[[str], object],
) -> tuple[str, Mapping[str, object], dict[str, str]]:
    """The stage, its own settings, and what is wrong with either."""
    problems: dict[str, str] = {}
    raw_stage = try_get_context("stage")
    stage = DEFAULT_STAGE if raw_stage is None else str(raw_stage).strip()
    # The stage names Cognito's domain prefix too, which may not contain these words.
    if not _STAGE.fullmatch(stage) or any(word in stage for word in ("aws", "amazon", "cognito")):
        problems["stage"] = (
            "must be 1-20 lower-case letters, digits or hyphens, starting with a letter, without aws, "
            f"amazon or cognito, got {stage!r}"
        )
        stage = DEFAULT_STAGE
    stages = try_get_context("stages")
    stages = STAGE_SETTINGS if stages is None else stages
    if not isinstance(stages, Mapping) or not all(isinstance(block, Mapping) for block in stages.values()):
        problems["stages"] = "must map each stage name to an object of settings"
        return stage, {}, problems
    block = stages.get(stage, {})
    known = (*DEFAULTS, *FORMER_KEYS.values())
    unknown = sorted(key for key in block if key not in known or key in ("stage", "stages"))
    if unknown:
        problems["stages"] = f"stage {stage} sets unknown settings: {', '.join(unknown)}"
    return stage, {key: value for key, value in block.items() if key not in unknown}, problems


class _Reader:
    """Reads one key at a time, records what is wrong with it, and returns a harmless value meanwhile."""

    def __init__(self, try_get_context: Callable[[str], object]) -> None:
        self._get = try_get_context
        self.problems: dict[str, str] = {}
        self.warnings: list[str] = []

    def read_former_keys(self) -> None:
        """Read each key from its former name when only that is given; a conflict is a problem."""
        get = self._get
        taken: dict[str, object] = {}
        for key, former in FORMER_KEYS.items():
            old, new = get(former), get(key)
            if old is None:
                continue
            if new is None or new == DEFAULTS[key] or new == old:
                taken[key] = old
                self.warnings.append(f"{former} is a former name: give {key} instead (same value)")
            else:
                self.problems[key] = (
                    f"is given along with its former name {former}, with another value; give {key} only"
                )
        self._get = lambda key: taken[key] if key in taken else get(key)

    def raw(self, key: str) -> object:
        value = self._get(key)
        return DEFAULTS[key] if value is None else value

    def text(self, key: str) -> str:
        value = self.raw(key)
        if isinstance(value, str):
            return value.strip()
        self.problems[key] = f"must be a string, got {value!r}"
        return ""

    def url(self, key: str, *, required: bool) -> str | None:
        value = self.text(key)
        if not value:
            if required:
                self.problems.setdefault(
                    key,
                    "is empty; give the store's base URL, e.g. https://<db-id>-<region>.apps.astra.datastax.com/api/json",
                )
            return None
        parts = urlsplit(value)
        if "<" in value or ">" in value:
            self.problems[key] = (
                f"still holds a placeholder ({', '.join(re.findall(r'<[^>]*>?', value))}): put in your "
                f"database's own values, got {value!r}"
            )
        elif parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            self.problems[key] = f"must be an http(s) URL without query or fragment, got {value!r}"
        return value.rstrip("/")

    def identifier(self, key: str) -> str:
        value = self.text(key)
        if not _IDENTIFIER.fullmatch(value):
            self.problems.setdefault(key, f"must be 1-48 letters, digits or underscores, got {value!r}")
        return value

    def choice(
        self, key: str, allowed: tuple[str, ...], *, case: Literal["lower", "upper", "exact"] = "lower"
    ) -> str:
        value = self.text(key)
        value = {"lower": value.lower(), "upper": value.upper(), "exact": value}[case]
        if value not in allowed:
            self.problems.setdefault(key, f"must be one of {', '.join(allowed)}, got {value!r}")
            return allowed[0]
        return value

    def number(self, key: str, *, minimum: float, maximum: float, whole: bool = False) -> float:
        value = self.raw(key)
        number: float | None = None
        # -c key=value always gives a string; cdk.json gives a JSON number.
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                number = None
        kind = "a whole number" if whole else "a number"
        if number is None or (whole and not number.is_integer()) or not minimum <= number <= maximum:
            self.problems[key] = f"must be {kind} from {minimum:g} to {maximum:g}, got {value!r}"
            return minimum
        return number

    def retention(self, key: str) -> int:
        days = int(self.number(key, minimum=1, maximum=3653, whole=True))
        if key not in self.problems and days not in RETENTION_PERIODS:
            allowed = ", ".join(str(d) for d in RETENTION_PERIODS)
            self.problems[key] = (
                f"must be one of the retention periods CloudWatch offers ({allowed}), got {days}"
            )
        return days if days in RETENTION_PERIODS else 30

    def secret(self, key: str) -> str | None:
        value = self.text(key)
        if not value:
            return None
        if value.startswith("arn:"):
            if not _SECRET_ARN.fullmatch(value):
                self.problems[key] = (
                    "an ARN must be the secret's complete ARN, ending in its six-character suffix "
                    f"(or give the secret's name instead), got {value!r}"
                )
        elif not _SECRET_NAME.fullmatch(value):
            self.problems[key] = f"must be a secret name or complete secret ARN, got {value!r}"
        return value

    def kms_key(self, key: str) -> str | None:
        value = self.text(key)
        if value and not _KMS_KEY_ARN.fullmatch(value):
            self.problems[key] = (
                f"must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), got {value!r}"
            )
        return value or None

    def email(self, key: str) -> str | None:
        value = self.text(key)
        if value and not _EMAIL.fullmatch(value):
            self.problems[key] = f"must be an e-mail address, got {value!r}"
        return value or None

    def flag(self, key: str) -> bool:
        value = self.raw(key)
        # -c key=value always gives a string; cdk.json gives a JSON boolean.
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        self.problems[key] = f"must be true or false, got {value!r}"
        return True

    def items(self, key: str, what: str) -> list[object] | None:
        """A JSON list from cdk.json, or a comma-separated string from -c; None (a problem) otherwise."""
        value = self.raw(key)
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            return list(value)
        self.problems[key] = f"must be {what}, got {value!r}"
        return None

    def names(self, key: str) -> tuple[str, ...]:
        items = self.items(key, "a list of strings")
        if items is None:
            return ()
        if not all(isinstance(item, str) and 0 < len(item) <= 256 for item in items):
            value = self.raw(key)
            self.problems[key] = f"must be a list of strings, got {value!r}"
            return ()
        return tuple(str(item) for item in items)

    def principals(self, key: str) -> tuple[str, ...]:
        items = self.items(key, "a list of IAM role or user ARNs")
        if items is None:
            return ()
        for item in items:
            if not (isinstance(item, str) and _PRINCIPAL.fullmatch(item)):
                self.problems[key] = f"each must be an IAM role or user ARN, got {item!r}"
                return ()
        return tuple(str(item) for item in items)

    def origins(self, key: str) -> tuple[str, ...]:
        items = self.items(key, "a list of origins or a comma-separated string")
        if items is None:
            return ()
        origins: list[str] = []
        for item in items:
            if item == "*" or (isinstance(item, str) and _is_origin(item)):
                origins.append(item)
            else:
                self.problems[key] = f"each origin must be '*' or scheme://host[:port], got {item!r}"
        return tuple(origins)


def _is_origin(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.path
