package pgrecords

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// What the Shipper and the Registrations writer share: each is one
// goroutine with one connection, stopped by closing a channel.

// stopContext returns a context cancelled lastChance after stop closes:
// the goroutine's last writes get that long, no more.
func stopContext(stop <-chan struct{}) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-stop:
			time.Sleep(lastChance)
		case <-ctx.Done():
		}
		cancel()
	}()
	return ctx, cancel
}

// lastChance bounds the writes after Close.
const lastChance = 3 * time.Second

// waitOrStop sleeps d; false when stop closed first.
func waitOrStop(stop <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-stop:
		return false
	case <-t.C:
		return true
	}
}

// connectMigrated connects to url (within 5 s) and brings the schema to
// the latest version; it returns the connection and that version.
func connectMigrated(ctx context.Context, url string) (*pgx.Conn, int, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, url)
	if err != nil {
		return nil, 0, err
	}
	v, err := migrate(cctx, conn)
	if err != nil {
		_ = conn.Close(context.Background())
		return nil, 0, err
	}
	return conn, v, nil
}

// closeConn closes *conn if it is open (for a deferred call).
func closeConn(conn **pgx.Conn) {
	if *conn != nil {
		_ = (*conn).Close(context.Background())
		*conn = nil
	}
}
