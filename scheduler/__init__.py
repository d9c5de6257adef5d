"""Scheduled jobs (birthdays, expiry, tier review) and the broadcast outbox with its paced sender."""
