"""Write operations of the survey app (import, instruments, demo content, scoring)."""
