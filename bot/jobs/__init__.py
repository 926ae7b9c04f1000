"""Work that happens without anyone asking: the reminder sweep, daily re-checks, the outbox of
messages owed, verifications a crash interrupted, reminders relayed to admins, webhook
deliveries. `scheduler` only ticks."""
