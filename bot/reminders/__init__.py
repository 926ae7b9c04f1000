"""Work that happens without anyone asking: reminder sweeps, daily re-checks, the outbox of
messages owed, and notes for verifications a crash interrupted. `scheduler` only ticks."""
