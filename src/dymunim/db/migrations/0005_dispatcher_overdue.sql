-- /health names a dispatcher that holds an attempt past its deadline (it should have resolved it).
ALTER TABLE dispatchers ADD COLUMN overdue int NOT NULL DEFAULT 0;
