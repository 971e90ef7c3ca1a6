"""What the scenarios share: the workflow registry, schedules, business dates, targets, run summaries, and
the one definition of the MySQL source tables."""
