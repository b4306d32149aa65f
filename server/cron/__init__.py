"""Scheduled work: the Vercel cron's endpoints and the DMs they send."""
