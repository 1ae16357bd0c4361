package pgrecords

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migrations are applied in order; the schema's version is how many ran.
// Append only: a released migration never changes.
var migrations = []string{
	// 1: the records table.
	`CREATE TABLE switchboard_cdr (
		call_id      text PRIMARY KEY,
		a_call_id    text NOT NULL,
		b_call_id    text NOT NULL DEFAULT '',
		start_time   timestamptz NOT NULL,
		answer_time  timestamptz,
		end_time     timestamptz NOT NULL,
		from_uri     text NOT NULL,
		to_uri       text NOT NULL,
		dialled      text NOT NULL,
		caller       text NOT NULL,
		trunk        text NOT NULL DEFAULT '',
		status       integer NOT NULL,
		disposition  text NOT NULL,
		hangup_side  text NOT NULL,
		q850_cause   integer,
		duration_s   double precision NOT NULL,
		billable_s   double precision NOT NULL,
		record       jsonb NOT NULL,
		inserted_at  timestamptz NOT NULL DEFAULT now()
	)`,
	`CREATE INDEX switchboard_cdr_start ON switchboard_cdr (start_time)`,
	// 3-4: the registrations shared by instances (registrations.go).
	`CREATE TABLE switchboard_registrations (
		user_name    text NOT NULL,
		contact_key  text NOT NULL,
		contact      text NOT NULL,
		source       text NOT NULL,
		transport    text NOT NULL,
		expires      timestamptz NOT NULL,
		updated      timestamptz NOT NULL,
		instance     text NOT NULL,
		binding      jsonb NOT NULL,
		PRIMARY KEY (user_name, contact_key)
	)`,
	`CREATE INDEX switchboard_registrations_expires ON switchboard_registrations (expires)`,
}

// migrate brings the schema to the latest version under an advisory lock
// (one instance migrates; the others wait and find it done).
func migrate(ctx context.Context, conn *pgx.Conn) (int, error) {
	const lockID = 0x53424344 // "SBCD"
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockID); err != nil {
		return 0, fmt.Errorf("schema lock: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockID) }()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS switchboard_schema (version integer NOT NULL)`); err != nil {
		return 0, fmt.Errorf("schema table: %w", err)
	}
	var version int
	err := conn.QueryRow(ctx, `SELECT version FROM switchboard_schema`).Scan(&version)
	switch {
	case err == pgx.ErrNoRows:
		if _, err := conn.Exec(ctx, `INSERT INTO switchboard_schema (version) VALUES (0)`); err != nil {
			return 0, fmt.Errorf("schema version: %w", err)
		}
	case err != nil:
		return 0, fmt.Errorf("schema version: %w", err)
	}
	if version > len(migrations) {
		return version, fmt.Errorf("the database's schema is version %d, newer than this Switchboard knows (%d)", version, len(migrations))
	}
	for v := version; v < len(migrations); v++ {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return v, err
		}
		if _, err := tx.Exec(ctx, migrations[v]); err != nil {
			_ = tx.Rollback(ctx)
			return v, fmt.Errorf("migration %d: %w", v+1, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE switchboard_schema SET version = $1`, v+1); err != nil {
			_ = tx.Rollback(ctx)
			return v, fmt.Errorf("migration %d: %w", v+1, err)
		}
		if err := tx.Commit(ctx); err != nil {
			return v, fmt.Errorf("migration %d: %w", v+1, err)
		}
	}
	return len(migrations), nil
}
