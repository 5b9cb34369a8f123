"""Durable workflows inside the sandbox: replay with stored steps, record each step with its queue
operation, sleep and wait between calls holding no slot, and events sent to waiting runs."""
