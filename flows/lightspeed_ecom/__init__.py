"""Lightspeed eCom (C-Series, formerly SEOshop): an API key and secret used with Basic auth on
one of two clusters, in one of the shop's languages. The permission list is read back so the
person learns which areas the key cannot read before a migration stops half-way.

What each rule rests on:
- Read on every area: the source guide (seed 000, "Lightspeed eCom" step 5) says "enable the
  API Key and set all permissions to Read". A key missing Read on any area is refused as
  missing permissions, naming each area, as BigCommerce's flow does; an area the permission
  list leaves out counts as missing, since nothing shows it can be read.
- Rate-limit headers carry one value per window, 5 minutes / hour / day: "X-RateLimit-Reset:
  263/2063/23663" (platform-apis.md §4, from the NickTacke client tested against the live API;
  [C-3p], not in Lightspeed's own pages). flows.http takes the window with nothing remaining
  and reads a value above 1e9 as a Unix time.
"""

from flows.lightspeed_ecom.api import AREAS, CLUSTERS
from flows.lightspeed_ecom.flow import FLOW, LightspeedEcomFlow

__all__ = ["AREAS", "CLUSTERS", "FLOW", "LightspeedEcomFlow"]
