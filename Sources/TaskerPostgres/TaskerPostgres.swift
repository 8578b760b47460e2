// Postgres placeholder
