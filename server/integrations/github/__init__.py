"""The GitHub front door: signed webhooks, the account-linking OAuth flow, and the Action's
deliveries (which are webhooks too).

Modules: `signature` (HMAC over the raw body, checked first), `router` (the webhook:
dedupe, answer, tell the owners), `dispatch` (from a payload to the domain call),
`payloads` (what GitHub sends), `graphql` (Projects v2 look-ups), `oauth` (linking a
login) and `cli` (`timetrack github`). The rules themselves are in `app/github.py`.
"""
