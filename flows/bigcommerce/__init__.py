"""BigCommerce: a store-level API account (store hash + static access token).

Verification reads the store information, then probes one read-only endpoint per scope the
seed asks for: BigCommerce has no endpoint that lists a token's scopes, and a 403 from an
endpoint is the only way to learn that its scope is missing. When the store information itself
is refused, the webhook list (readable with any token, it needs no scope) tells a missing scope
apart from a store hash that does not belong to the token.
"""

from flows.bigcommerce.credentials import parse_credentials_file
from flows.bigcommerce.flow import API_HOST, FLOW, BigCommerceFlow
from flows.bigcommerce.scopes import SCOPES, WRITE_PROBES

__all__ = [
    "API_HOST", "FLOW", "SCOPES", "WRITE_PROBES", "BigCommerceFlow", "parse_credentials_file",
]
