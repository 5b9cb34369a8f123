"""dymunim: durable jobs for arbitrary code on Postgres + pgmq and Cloudflare Dynamic Workers."""

__version__ = "0.1.0"
