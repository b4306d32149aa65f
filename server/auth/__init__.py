"""How callers prove who they are: one small module per mechanism.

`token` (personal API tokens), `cookie` (the page's sign-in), `csrf` (the page's unsafe
requests), `cron` (the scheduler's bearer secret) and `caller` (a token or the cookie, for
the REST API). Discord's Ed25519 and GitHub's HMAC signatures belong to their integrations
(`server.integrations.*.signature`).
"""
