-- The API role's statements end within the server's request budget. The server gives up on
-- a database call held past 5 s (cp_server_opts.db_deadline_ms: a watchdog shuts the socket,
-- for a hung server that never answers); a statement PostgreSQL cancels at 4 s ends first
-- and cleanly, and keeps its connection.
alter role chartpulse_api set statement_timeout = '4s';
