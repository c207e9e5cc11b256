"""Running studies: spec, plan, run, resume, cost and processes."""
