package pgrecords

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/registrar"
)

// Registrations is the registration store shared by the instances behind
// one front door (registrar.store: postgres): a registrar.Shared kept in
// the table switchboard_registrations, one row per user and contact.
//
//	Registrar.share ─► Put ─► queue (maxPending ops; full: dropped, counted)
//	                            │ writer goroutine, one transaction per batch:
//	                            ▼ DELETE gone, INSERT … ON CONFLICT DO UPDATE put
//	                         PostgreSQL ◄── Get: SELECT by user, unexpired
//	                                         (lookup on miss, one read connection)
//
// A write that fails is kept and tried again after a reconnect (the oldest
// ops go first when the queue overflows); phones re-register before their
// bindings expire, so a lost write heals at the next refresh. Rows past
// their expiry are deleted every sweepEvery.
type Registrations struct {
	url      string
	instance string
	log      *slog.Logger

	ops     chan regOp
	dropped atomic.Uint64
	up      atomic.Bool

	read     chan struct{} // a one-slot semaphore for readConn
	readConn *pgx.Conn

	stop chan struct{}
	wg   sync.WaitGroup
}

var _ registrar.Shared = (*Registrations)(nil)

// regOp is one REGISTER's changes for a user.
type regOp struct {
	user      string
	put, gone []registrar.Binding
}

const (
	maxPending = 4096
	sweepEvery = time.Minute
)

// NewRegistrations checks the connection string and starts the writer.
// instance names this Switchboard in the rows it writes (for operators).
// A database that cannot be reached is not an error: writes wait and are
// retried, lookups find nothing until it answers.
func NewRegistrations(url, instance string, log *slog.Logger) (*Registrations, error) {
	if _, err := pgx.ParseConfig(url); err != nil {
		return nil, fmt.Errorf("registration database: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Registrations{url: url, instance: instance, log: log, ops: make(chan regOp, maxPending),
		read: make(chan struct{}, 1), stop: make(chan struct{})}
	s.wg.Add(1)
	go s.run()
	return s, nil
}

// Put queues user's changed bindings for the writer; it never blocks.
func (s *Registrations) Put(user string, put, gone []registrar.Binding) {
	select {
	case s.ops <- regOp{user: user, put: put, gone: gone}:
	default:
		if s.dropped.Add(1) == 1 {
			s.log.Warn("registration writes queue full; dropping (phones re-register)", "user", user)
		}
	}
}

// Dropped counts writes dropped because the queue was full.
func (s *Registrations) Dropped() uint64 { return s.dropped.Load() }

// Up reports whether the writer's last attempt reached the database.
func (s *Registrations) Up() bool { return s.up.Load() }

// Get returns user's bindings unexpired at now, as any instance wrote them.
func (s *Registrations) Get(ctx context.Context, user string, now time.Time) ([]registrar.Binding, error) {
	select {
	case s.read <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.read }()
	if s.readConn == nil {
		c, err := pgx.Connect(ctx, s.url)
		if err != nil {
			return nil, err
		}
		s.readConn = c
	}
	rows, err := s.readConn.Query(ctx,
		`SELECT binding FROM switchboard_registrations WHERE user_name = $1 AND expires > $2`, user, now)
	var out []registrar.Binding
	if err == nil {
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (registrar.Binding, error) {
			var raw []byte
			var b registrar.Binding
			if err := row.Scan(&raw); err != nil {
				return b, err
			}
			return b, json.Unmarshal(raw, &b)
		})
	}
	if err != nil {
		_ = s.readConn.Close(context.Background())
		s.readConn = nil
		return nil, fmt.Errorf("registration lookup: %w", err)
	}
	return out, nil
}

// Close writes what is queued (for a few seconds at most) and stops.
func (s *Registrations) Close() error {
	close(s.stop)
	s.wg.Wait()
	s.read <- struct{}{}
	if s.readConn != nil {
		_ = s.readConn.Close(context.Background())
		s.readConn = nil
	}
	return nil
}

// run is the writer: it applies queued ops in order, one transaction per
// batch, reconnecting with backoff, until Close.
func (s *Registrations) run() {
	defer s.wg.Done()
	ctx, cancel := stopContext(s.stop) // Close's last chance, bounded
	defer cancel()
	var conn *pgx.Conn
	defer closeConn(&conn)
	var pending []regOp
	backoff, down := 500*time.Millisecond, time.Time{}
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	stopping := false
	for {
		if len(pending) == 0 && !stopping {
			select {
			case op := <-s.ops:
				pending = append(pending, op)
			case <-sweep.C:
				if conn != nil {
					if _, err := conn.Exec(ctx, `DELETE FROM switchboard_registrations WHERE expires < $1`, time.Now()); err != nil {
						s.log.Warn("sweeping expired registrations failed", "error", err)
					}
				}
				continue
			case <-s.stop:
				stopping = true
			}
		}
		pending = s.drain(pending)
		if len(pending) == 0 {
			if stopping {
				return
			}
			continue
		}
		if conn == nil {
			c, err := s.connect(ctx)
			if err != nil {
				if down.IsZero() {
					down = time.Now()
					s.log.Warn("registration database unreachable; writes wait", "error", err)
				}
				s.up.Store(false)
				if stopping || !waitOrStop(s.stop, backoff) {
					return
				}
				backoff = min(2*backoff, maxBackoff)
				continue
			}
			conn = c
		}
		if err := s.write(ctx, conn, pending); err != nil {
			if down.IsZero() {
				down = time.Now()
				s.log.Warn("registration database failed; writes wait", "error", err)
			}
			s.up.Store(false)
			_ = conn.Close(context.Background())
			conn = nil
			if stopping {
				return
			}
			continue
		}
		pending = pending[:0]
		s.up.Store(true)
		backoff = 500 * time.Millisecond
		if !down.IsZero() {
			s.log.Info("registration database back", "down_for", time.Since(down).Round(time.Millisecond).String())
			down = time.Time{}
		}
	}
}

// drain appends what is queued to pending, keeping at most maxPending ops
// (the oldest are dropped and counted).
func (s *Registrations) drain(pending []regOp) []regOp {
	for {
		select {
		case op := <-s.ops:
			pending = append(pending, op)
		default:
			if n := len(pending) - maxPending; n > 0 {
				s.dropped.Add(uint64(n))
				pending = append(pending[:0], pending[n:]...)
			}
			return pending
		}
	}
}

func (s *Registrations) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, v, err := connectMigrated(ctx, s.url)
	if err != nil {
		return nil, err
	}
	s.log.Info("registration database connected", "schema_version", v)
	return conn, nil
}

// write applies ops in order in one transaction. A row is only replaced by
// a binding refreshed at the same time or later, so two instances writing
// the same contact settle on the newest.
func (s *Registrations) write(ctx context.Context, conn *pgx.Conn, ops []regOp) error {
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b := &pgx.Batch{}
	for _, op := range ops {
		for _, g := range op.gone {
			b.Queue(`DELETE FROM switchboard_registrations WHERE user_name = $1 AND contact_key = $2 AND updated <= $3`,
				op.user, g.ContactKey(), g.Updated)
		}
		for _, p := range op.put {
			raw, err := json.Marshal(p)
			if err != nil {
				return err
			}
			b.Queue(`INSERT INTO switchboard_registrations
				(user_name, contact_key, contact, source, transport, expires, updated, instance, binding)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
				ON CONFLICT (user_name, contact_key) DO UPDATE SET
					contact = EXCLUDED.contact, source = EXCLUDED.source, transport = EXCLUDED.transport,
					expires = EXCLUDED.expires, updated = EXCLUDED.updated, instance = EXCLUDED.instance,
					binding = EXCLUDED.binding
				WHERE switchboard_registrations.updated <= EXCLUDED.updated`,
				op.user, p.ContactKey(), p.Contact, p.Source, p.Transport, p.Expires, p.Updated, s.instance, raw)
		}
	}
	tx, err := conn.Begin(wctx)
	if err != nil {
		return err
	}
	if err := tx.SendBatch(wctx, b).Close(); err != nil {
		_ = tx.Rollback(context.Background())
		return err
	}
	return tx.Commit(wctx)
}
