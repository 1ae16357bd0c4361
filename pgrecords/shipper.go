package pgrecords

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/renameio/v2"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/cdr"
)

// CursorFile is the name, under the state directory, of the shipper's
// cursor: how far each records file has been shipped.
const CursorFile = "pg_cursor.json"

const (
	maxBatchBytes = 1 << 20 // read per transaction
	maxBackoff    = 30 * time.Second
)

// Config configures a Shipper.
type Config struct {
	// URL is the PostgreSQL connection string (postgres://… or key=value).
	URL string
	// RecordsDir is where cdr.Writer appends; StateDir keeps the cursor.
	RecordsDir, StateDir string
	// Poll is how often the files are checked for new records (default
	// 500 ms).
	Poll time.Duration
}

// Shipper copies complete record lines into PostgreSQL (see doc.go).
type Shipper struct {
	cfg Config
	log *slog.Logger

	cursor map[string]int64 // records file name → bytes shipped; shipper goroutine only

	shipped atomic.Uint64
	skipped atomic.Uint64
	up      atomic.Bool

	stop chan struct{}
	wg   sync.WaitGroup
}

// New checks the connection string, loads the cursor and starts shipping.
// A database that cannot be reached is not an error: records wait in
// their files until it can.
func New(cfg Config, log *slog.Logger) (*Shipper, error) {
	if _, err := pgx.ParseConfig(cfg.URL); err != nil {
		return nil, fmt.Errorf("records database: %w", err)
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 500 * time.Millisecond
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Shipper{cfg: cfg, log: log, cursor: map[string]int64{}, stop: make(chan struct{})}
	b, err := os.ReadFile(filepath.Join(cfg.StateDir, CursorFile))
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &s.cursor); err != nil {
			return nil, fmt.Errorf("records database cursor %s: %w", filepath.Join(cfg.StateDir, CursorFile), err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("records database cursor: %w", err)
	}
	s.wg.Add(1)
	go s.run()
	return s, nil
}

// Shipped counts records inserted (or found there already); Skipped the
// lines that did not parse (left in the file, logged); Up whether the
// database answered the last attempt.
func (s *Shipper) Shipped() uint64 { return s.shipped.Load() }

// Skipped counts record lines that could not be parsed and were passed over.
func (s *Shipper) Skipped() uint64 { return s.skipped.Load() }

// Up reports whether the last attempt reached the database.
func (s *Shipper) Up() bool { return s.up.Load() }

// Close ships what it can within a few seconds and stops. What is left is
// shipped at the next start.
func (s *Shipper) Close() error {
	close(s.stop)
	s.wg.Wait()
	return nil
}

func (s *Shipper) run() {
	defer s.wg.Done()
	ctx, cancel := stopContext(s.stop) // Close's last chance, bounded
	defer cancel()
	var conn *pgx.Conn
	defer closeConn(&conn)
	backoff, down := s.cfg.Poll, time.Time{}
	for {
		if conn == nil {
			c, err := s.connect(ctx)
			if err != nil {
				if down.IsZero() {
					down = time.Now()
					s.log.Warn("records database unreachable; records wait in their files", "error", err)
				}
				s.up.Store(false)
				if !waitOrStop(s.stop, backoff) {
					return
				}
				backoff = min(2*backoff, maxBackoff)
				continue
			}
			conn = c
		}
		n, err := s.shipAll(ctx, conn)
		if err != nil {
			if down.IsZero() {
				down = time.Now()
				s.log.Warn("records database failed; records wait in their files", "error", err)
			}
			s.up.Store(false)
			_ = conn.Close(context.Background())
			conn = nil
			continue
		}
		s.up.Store(true)
		if !down.IsZero() {
			s.log.Info("records database back", "down_for", time.Since(down).Round(time.Millisecond).String(), "replayed", n)
			down = time.Time{}
		}
		backoff = s.cfg.Poll
		if !waitOrStop(s.stop, s.cfg.Poll) {
			_, _ = s.shipAll(ctx, conn) // one last pass for what arrived before Close
			return
		}
	}
}

func (s *Shipper) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, v, err := connectMigrated(ctx, s.cfg.URL)
	if err != nil {
		return nil, err
	}
	s.log.Info("records database connected", "schema_version", v)
	return conn, nil
}

// shipAll ships every records file from its cursor, oldest first, and
// returns how many records it inserted.
func (s *Shipper) shipAll(ctx context.Context, conn *pgx.Conn) (int, error) {
	names, err := filepath.Glob(filepath.Join(s.cfg.RecordsDir, "cdr-*.jsonl"))
	if err != nil {
		return 0, err
	}
	sort.Strings(names)
	seen := make(map[string]bool, len(names))
	total := 0
	for _, path := range names {
		name := filepath.Base(path)
		seen[name] = true
		for {
			n, more, err := s.shipFile(ctx, conn, path, name)
			total += n
			if err != nil {
				return total, err
			}
			if !more {
				break
			}
		}
	}
	pruned := false
	for name := range s.cursor {
		if !seen[name] {
			delete(s.cursor, name) // the file was rotated away
			pruned = true
		}
	}
	if pruned {
		return total, s.saveCursor()
	}
	return total, nil
}

// shipFile ships one batch of complete lines of a file after its cursor;
// more tells that the file has more after it.
func (s *Shipper) shipFile(ctx context.Context, conn *pgx.Conn, path, name string) (int, bool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, false, nil // rotated away meanwhile
	}
	off := s.cursor[name]
	if fi.Size() <= off {
		return 0, false, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	buf := make([]byte, min(fi.Size()-off, maxBatchBytes))
	n, err := f.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, false, err
	}
	buf = buf[:n]
	end := bytes.LastIndexByte(buf, '\n')
	if end < 0 {
		if int64(len(buf)) == maxBatchBytes {
			return 0, false, fmt.Errorf("%s: a record longer than %d bytes at offset %d", name, maxBatchBytes, off)
		}
		return 0, false, nil // a line still being written
	}
	buf = buf[:end+1]
	batch := &pgx.Batch{}
	lineOff := off
	for line := range bytes.Lines(buf) {
		trimmed := bytes.TrimSpace(line)
		if len(trimmed) > 0 {
			var r cdr.Record
			if err := json.Unmarshal(trimmed, &r); err != nil || r.CallID == "" {
				s.skipped.Add(1)
				s.log.Error("record line not shipped: it does not parse", "file", name, "offset", lineOff, "error", err)
			} else {
				queueInsert(batch, &r, trimmed)
			}
		}
		lineOff += int64(len(line))
	}
	if batch.Len() > 0 {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return 0, false, err
		}
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			_ = tx.Rollback(context.Background())
			return 0, false, err
		}
		if err := tx.Commit(ctx); err != nil {
			return 0, false, err
		}
	}
	s.cursor[name] = off + int64(len(buf))
	if err := s.saveCursor(); err != nil {
		return 0, false, err
	}
	s.shipped.Add(uint64(batch.Len()))
	return batch.Len(), s.cursor[name] < fi.Size() && int64(n) == maxBatchBytes, nil
}

// queueInsert adds the idempotent insert of one record.
func queueInsert(b *pgx.Batch, r *cdr.Record, raw []byte) {
	var answer *time.Time
	if !r.Answer.IsZero() {
		answer = &r.Answer
	}
	var cause *int
	if r.Q850Cause != 0 {
		cause = &r.Q850Cause
	}
	b.Queue(`INSERT INTO switchboard_cdr (call_id, a_call_id, b_call_id, start_time, answer_time, end_time,
		from_uri, to_uri, dialled, caller, trunk, status, disposition, hangup_side, q850_cause,
		duration_s, billable_s, record)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)
		ON CONFLICT (call_id) DO NOTHING`,
		r.CallID, r.ACallID, r.BCallID, r.Start, answer, r.End,
		r.From, r.To, r.Dialled, r.Caller, r.Trunk, r.Status, r.Disposition, r.HangupSide, cause,
		r.DurationS, r.BillableS, string(raw))
}

// saveCursor persists the cursor (atomically replaced, 0600).
func (s *Shipper) saveCursor() error {
	b, err := json.Marshal(s.cursor)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.cfg.StateDir, 0o700); err != nil {
		return err
	}
	return renameio.WriteFile(filepath.Join(s.cfg.StateDir, CursorFile), b, 0o600)
}

// Redacted is url with any password replaced by "xxxxx", for logs.
func Redacted(url string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil || cfg.Password == "" {
		return url
	}
	return strings.ReplaceAll(url, cfg.Password, "xxxxx")
}
