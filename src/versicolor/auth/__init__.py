"""OAuth 2.0: access tokens, grants, revocation and the authorization page."""
