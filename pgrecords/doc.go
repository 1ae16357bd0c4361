// Package pgrecords copies Switchboard's call records into PostgreSQL.
//
// The JSON-lines files the cdr writer appends are the source of truth and
// the spool at once: the Shipper reads each file from where it stopped,
// inserts the complete lines it finds in one transaction per batch, and
// only then moves its cursor (kept in <state.dir>/pg_cursor.json). So
//
//   - nothing is lost: a record is on disk (cdr.Writer) before it is
//     shipped; while the database is down or slow the files simply grow
//     and are replayed in order, oldest file first, when it returns;
//
//   - nothing is duplicated: the insert is idempotent by call id
//     (ON CONFLICT DO NOTHING), so a batch committed just before a crash
//     and shipped again after it adds nothing;
//
//   - calls never wait for the database: shipping runs on its own
//     goroutine, behind the file.
//
//     cdr.Writer ──append──► records/cdr-YYYY-MM-DD.jsonl
//     │ read from cursor (complete lines only)
//     ▼
//     Shipper ──INSERT … ON CONFLICT (call_id) DO NOTHING──► PostgreSQL
//     │ commit, then
//     ▼
//     state/pg_cursor.json  {file: offset}
//
// The schema (migrate.go) is created and migrated by Switchboard at start,
// under an advisory lock so several instances sharing a database do not
// race. The whole record is kept as jsonb beside the columns operators
// query most.
//
// Registrations (registrations.go) is the registrar's shared store in the
// same database (registrar.store: postgres): the table
// switchboard_registrations, written behind a queue by its own goroutine
// and read on a registrar's lookup miss.
package pgrecords
