"""Lightspeed R-Series (Retail POS): an OAuth access token, and optionally its refresh token.

R-Series has no personal keys: a person authorises an app, which receives a short-lived access
token and a refresh token. How short is the token's own business: Lightspeed says access tokens
"generally expire after 60 minutes", yet its refresh example answers "expires_in": 1800
(developers.lightspeedhq.com/retail/authentication, platform-apis.md §5). So getkey never says
"about an hour": it quotes the expiry the token carries (the JWT's `exp`), and otherwise says only
that the token is short-lived. The source guide's app hands over a file holding
"the API Key" without saying what it looks like, so any token is accepted and the Account call
decides. When the token is a JWT (Lightspeed's current tokens are), its claims tell expiry,
account, scopes and the app it was issued to (`aud`); they are read without checking the
signature, because Lightspeed's answer, not the claims, decides whether the token works.

`refresh()` performs the documented refresh-token grant for the reminders side.
"""

from flows.lightspeed_r.flow import FLOW, LightspeedRFlow, refresh
from flows.lightspeed_r.tokens import audience, claims, expires_at, scopes

__all__ = ["FLOW", "LightspeedRFlow", "audience", "claims", "expires_at", "refresh", "scopes"]
