"""BigCommerce scopes: which the migration needs, and the call that proves each one.

BigCommerce has no endpoint that lists a token's scopes, so each is learnt by trying it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    """One OAuth scope as the API account form names it, and a cheap GET that needs it."""

    name: str
    path: str
    required: bool


# From the migration guide (seed 001): the scopes marked "(required)" must be there; the
# others decide which data can be moved, so their absence is a warning, not a failure.
# Endpoints from BigCommerce's scope table; Channel 1 is the store's default storefront. [I]
SCOPES: tuple[Scope, ...] = (
    Scope("Information & Settings", "/v2/store", True),
    # Pages V3: BigCommerce lists /v2/pages as deprecated in favour of it.
    Scope("Content", "/v3/content/pages?limit=1", True),
    Scope("Marketing", "/v2/coupons?limit=1", True),
    Scope("Channel Settings", "/v3/channels?limit=1", True),
    Scope("Channel Listings", "/v3/channels/1/listings?limit=1", True),
    Scope("Products", "/v3/catalog/products?limit=1", False),
    Scope("Customers", "/v3/customers?limit=1", False),
    Scope("Orders", "/v2/orders?limit=1", False),
)
INFO_SCOPE = SCOPES[0]

# Writing: BigCommerce has no way to list an account's scopes, so each one is tried with a
# write that cannot change anything: a body with nothing in it (no fields to update, an empty
# batch, or an object missing every required field). We assume, as every documented 403 body
# suggests, that the scope is checked before the body: 403 means the scope is read-only;
# a 2xx, 400 or 422 means Modify was granted and the empty body was refused or did nothing. [I]
WRITE_PROBES: dict[str, tuple[str, str, object]] = {
    "Information & Settings": ("PUT", "/v3/settings/store/profile", {}),
    "Content": ("POST", "/v3/content/pages", []),
    "Marketing": ("POST", "/v2/coupons", {}),
    "Channel Settings": ("POST", "/v3/channels", {}),
    "Channel Listings": ("POST", "/v3/channels/1/listings", []),
    "Products": ("POST", "/v3/catalog/products", {}),
    "Customers": ("POST", "/v3/customers", []),
    "Orders": ("POST", "/v2/orders", {}),
}
MODIFY = ": Modify"
