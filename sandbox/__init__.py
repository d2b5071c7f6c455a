"""A local Clever: Data API v3.0/v3.1, Events, OAuth 2.0 and OIDC, Badges, a district generator.

Never imported by production code; it is the one stand-in the tests and the demo use for Clever.
"""
