-- What a job was submitted with, per field, when it carries an idempotency key: a later submit with
-- the same key but a different request is refused with the fields that differ (as Stripe does)
-- instead of silently answering with the old job. {"code": "<16 hex of sha256>", "payload": ...}.
-- Nullable without a default: adding it rewrites no rows, and jobs without a key store nothing.
ALTER TABLE jobs_state ADD COLUMN request_fingerprint jsonb;
