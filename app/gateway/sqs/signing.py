"""Who may call the SQS endpoint: AWS Signature Version 4, checked against FASTQUEUE_SQS_CREDENTIALS.

FASTQUEUE_SQS_CREDENTIALS='ACCESS_KEY_ID:SECRET:ROLE[,...]' (ROLE publisher, consumer or admin, as in
FASTQUEUE_AUTH_TOKENS): every request must carry a valid SigV4 `Authorization` header by one of those
keys: an unknown key id is InvalidClientTokenId, a wrong signature SignatureDoesNotMatch (the signature is
compared in constant time), a request whose X-Amz-Date is more than MAX_CLOCK_SKEW_SECONDS away from the
server's clock SignatureDoesNotMatch too, and the key's role limits the actions (AccessDenied).

Unset, with FASTQUEUE_AUTH_TOKENS unset too: the open mode of the quickstart, any signature (or none)
is accepted. Unset while FASTQUEUE_AUTH_TOKENS is set: every SQS call is refused (the REST API is
closed, so the SQS one must not be open).

Secrets never appear in a log line or an answer.
"""

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote

from ...settings import ADMIN, ROLES
from .protocol import SqsError

MAX_CLOCK_SKEW_SECONDS = 15 * 60
ALGORITHM = "AWS4-HMAC-SHA256"
_FORMAT = "Write ACCESS_KEY_ID:SECRET:ROLE[,ACCESS_KEY_ID:SECRET:ROLE...] with ROLE one of publisher, consumer, admin."
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+)\s*,\s*SignedHeaders=(?P<signed>[^,\s]+)\s*,"
    r"\s*Signature=(?P<signature>[0-9a-f]{64})\s*"
)


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    secret: str
    role: str

    def __repr__(self) -> str:  # never the secret
        return f"Credential(access_key_id={self.access_key_id!r}, role={self.role!r})"


def parse_credentials(value: str) -> dict[str, Credential]:
    """access key id -> Credential. Errors name the entry by position, never its text."""
    if not value.strip():
        raise ValueError("set but empty: unset it, or give credentials. " + _FORMAT)
    credentials: dict[str, Credential] = {}
    for number, entry in enumerate(value.split(","), start=1):
        parts = entry.strip().split(":")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"entry {number} is not ACCESS_KEY_ID:SECRET:ROLE. {_FORMAT}")
        key_id, secret, role = parts
        if role not in ROLES:
            raise ValueError(f"entry {number} does not end with a known role (publisher, consumer or admin). {_FORMAT}")
        if not all("!" <= character <= "~" for character in key_id + secret):
            raise ValueError(f"entry {number} has a space or a character outside printable ASCII")
        if key_id in credentials:
            raise ValueError(f"entry {number} repeats the access key id of an earlier entry")
        credentials[key_id] = Credential(key_id, secret, role)
    return credentials


@dataclass(frozen=True)
class SignedRequest:
    method: str
    raw_path: str
    query_string: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(("AWS4" + secret).encode("utf-8"), date.encode("utf-8"), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def _canonical_query(query_string: str) -> str:
    pairs = []
    for item in query_string.split("&") if query_string else []:
        name, _, value = item.partition("=")
        pairs.append((quote(unquote(name), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def canonical_request(request: SignedRequest, signed_headers: list[str]) -> str:
    headers = "".join(f"{name}:{' '.join(request.headers.get(name, '').split())}\n" for name in signed_headers)
    payload = request.headers.get("x-amz-content-sha256") or hashlib.sha256(request.body).hexdigest()
    return "\n".join(
        (
            request.method,
            request.raw_path or "/",
            _canonical_query(request.query_string),
            headers,
            ";".join(signed_headers),
            payload,
        )
    )


@dataclass(frozen=True)
class Caller:
    role: str
    access_key_id: str | None
    region: str | None


def authenticate(request: SignedRequest, credentials: Mapping[str, Credential], now: datetime | None = None) -> Caller:
    """The caller's role, or SqsError (MissingAuthenticationToken, InvalidClientTokenId, SignatureDoesNotMatch)."""
    authorization = request.headers.get("authorization")
    if authorization is None:
        raise SqsError(
            "MissingAuthenticationToken", "Request is missing Authentication Token: sign it with Signature Version 4."
        )
    match = _AUTHORIZATION.fullmatch(authorization.strip())
    if match is None:
        raise SqsError("SignatureDoesNotMatch", f"The Authorization header is not a {ALGORITHM} signature.")
    scope_parts = match["credential"].split("/")
    if len(scope_parts) != 5 or scope_parts[4] != "aws4_request":
        raise SqsError(
            "SignatureDoesNotMatch", "The credential scope is not ACCESS_KEY_ID/DATE/REGION/SERVICE/aws4_request."
        )
    key_id, date, region, service, _ = scope_parts
    credential = credentials.get(key_id)
    if credential is None:
        raise SqsError("InvalidClientTokenId", "The security token included in the request is invalid.")
    amz_date = request.headers.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise SqsError(
            "SignatureDoesNotMatch", "The request has no valid X-Amz-Date header (YYYYMMDDTHHMMSSZ)."
        ) from None
    now = now or datetime.now(UTC)
    if abs((now - signed_at).total_seconds()) > MAX_CLOCK_SKEW_SECONDS:
        raise SqsError(
            "SignatureDoesNotMatch",
            f"Signature expired: {amz_date} is more than {MAX_CLOCK_SKEW_SECONDS // 60} minutes away from the"
            f" server's time {now:%Y%m%dT%H%M%SZ}.",
        )
    if date != amz_date[:8]:
        raise SqsError("SignatureDoesNotMatch", "The credential scope's date is not the date of X-Amz-Date.")
    signed_headers = match["signed"].split(";")
    if "host" not in signed_headers or signed_headers != sorted(signed_headers):
        raise SqsError("SignatureDoesNotMatch", "SignedHeaders must be sorted and include host.")
    string_to_sign = "\n".join(
        (
            ALGORITHM,
            amz_date,
            f"{date}/{region}/{service}/aws4_request",
            hashlib.sha256(canonical_request(request, signed_headers).encode("utf-8")).hexdigest(),
        )
    )
    expected = hmac.new(
        _signing_key(credential.secret, date, region, service), string_to_sign.encode("utf-8"), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected.encode("ascii"), match["signature"].encode("ascii")):
        raise SqsError(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided."
            " Check your AWS Secret Access Key and signing method.",
        )
    return Caller(credential.role, key_id, region)


def open_caller(request: SignedRequest) -> Caller:
    """Open mode: an admin, whatever the signature; the region from the signature's scope if any."""
    match = _AUTHORIZATION.fullmatch((request.headers.get("authorization") or "").strip())
    parts = match["credential"].split("/") if match else []
    return Caller(ADMIN, parts[0] if parts else None, parts[2] if len(parts) == 5 else None)
