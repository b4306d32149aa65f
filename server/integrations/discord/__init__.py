"""The Discord front door: an HTTP-only interactions endpoint at POST /api/discord.

Setting up a Discord application for it:

1. In the Discord developer portal, create an application and a bot. Copy the application
   id, the public key and the bot token into `DISCORD_APPLICATION_ID`,
   `DISCORD_PUBLIC_KEY` and `DISCORD_BOT_TOKEN`.
2. Register the slash commands: `timetrack discord register` (global; Discord may take a
   while to show them) or `timetrack discord register --guild GUILD_ID` (instant, one
   server). `timetrack discord commands` prints what is sent.
3. Set the application's "Interactions Endpoint URL" to `<TIMETRACK_BASE_URL>/api/discord`.
   Discord checks it with a signed PING when you save.
4. Install the app to a server, or to your account (user install), and use `/session in`.

Modules: `signature` (Ed25519, checked first), `router` (the endpoint: parse, answer in
time, record), `payloads` (what Discord sends), `handlers` (slash commands), `components`
(buttons and modals) and `refs` (their `custom_id`s), `switch` (the GitHub Switch offer's
card and button), `views` (cards, notices, modals) and `period_views` (weeks, reports,
summaries), `deferral` (the 3-second deadline), `client` (outbound REST), `commands` (the
definitions) and `cli` (`timetrack discord`).
"""
