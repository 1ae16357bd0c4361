package cdr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

const (
	// queueSize bounds records waiting for the writer goroutine.
	queueSize = 4096
	// maxBatch bounds the records taken from the queue for one write.
	maxBatch = 256
	// syncInterval is the longest a written record waits for its fsync;
	// fsyncs are at least this far apart (see Writer).
	// fullWait is how long Write waits for room in a full queue.
	fullWait     = 2 * time.Second
	syncInterval = 200 * time.Millisecond
	// retryInterval is how often records held after a failed write are
	// tried again.
	retryInterval = time.Second
	// maxHeld bounds the records held in memory while the disk refuses
	// them (about 1 KiB each); beyond it the oldest are dropped (logged).
	maxHeld = 100000
)

// Writer appends records as JSON lines to <dir>/cdr-YYYY-MM-DD.jsonl (the
// UTC date of the record's End, else Start). One goroutine writes; Write
// hands records over through a bounded queue.
//
// Durability: each batch taken from the queue is written to the file at
// once, so a record survives a crash of the process as soon as its batch
// is written. It reaches the disk (fsync) within syncInterval (200 ms):
// fsyncs run at most that often, not after every batch, which at a few
// hundred calls per second would cost an fsync per call or two. A power
// loss or kernel crash can therefore lose the last 200 ms of records. A
// day's file is fsynced before it is closed, and Close writes and fsyncs
// everything queued, so a clean shutdown loses nothing.
type Writer struct {
	dir  string
	log  *slog.Logger
	wait time.Duration

	mu     sync.RWMutex // RLock: Write sending; Lock: Close closing q
	closed bool
	q      chan Record

	dropped atomic.Uint64
	wg      sync.WaitGroup
	err     error // first write error, read after wg.Wait

	// beforeBatch, when set (tests), runs in the writer goroutine after it
	// takes the first record of a batch.
	beforeBatch func()

	// Writer goroutine state.
	file     *os.File
	fileName string
	size     int64     // file's length after the last whole append
	dirty    bool      // file written since its last fsync
	lastSync time.Time // when the last fsync ran

	// held are records whose write failed (a full or failing disk),
	// oldest first, kept in memory for the next try: every retryInterval
	// and before each new batch. heldCount mirrors len(held) for Held.
	held      []Record
	heldCount atomic.Int64
	heldSince time.Time
}

// NewWriter creates dir if needed and starts the writer goroutine. Close it
// to drain the queue.
func NewWriter(dir string, log *slog.Logger) (*Writer, error) {
	return newWriter(dir, log, queueSize, fullWait, nil)
}

func newWriter(dir string, log *slog.Logger, size int, wait time.Duration, beforeBatch func()) (*Writer, error) {
	if dir == "" {
		return nil, errors.New("cdr: empty records dir")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("cdr: %w", err)
	}
	if err := repairTornTails(dir, log); err != nil {
		return nil, err
	}
	w := &Writer{
		dir: dir, log: log.With("component", "cdr"), wait: wait,
		q: make(chan Record, size), beforeBatch: beforeBatch,
	}
	w.wg.Add(1)
	go w.run()
	return w, nil
}

// Write queues rec (filling DurationS and BillableS from its times). It
// returns at once unless the queue is full; then it waits up to 2 s, after
// which the record is counted as dropped and logged in full at error level,
// so it is never lost silently. Safe for concurrent use; after Close every
// record is dropped that way.
func (w *Writer) Write(rec Record) {
	rec.fillDurations()
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		w.drop(rec, "writer closed")
		return
	}
	select {
	case w.q <- rec:
		return
	default:
	}
	t := time.NewTimer(w.wait)
	defer t.Stop()
	select {
	case w.q <- rec:
	case <-t.C:
		w.drop(rec, "queue full")
	}
}

// drop counts rec as lost and logs all of it.
func (w *Writer) drop(rec Record, why string) {
	w.dropped.Add(1)
	line, err := json.Marshal(rec)
	if err != nil {
		w.log.Error("CDR dropped", "why", why, "call_id", rec.CallID, "record", fmt.Sprintf("%+v", rec))
		return
	}
	w.log.Error("CDR dropped", "why", why, "call_id", rec.CallID, "record", string(line))
}

// Dropped returns how many records could not be written (queue full for
// 2 s, written after Close, or a failed disk write).
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// Close stops accepting records, writes everything queued, syncs and closes
// the file. It returns the first write error seen, if any.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	close(w.q)
	w.mu.Unlock()
	w.wg.Wait()
	return w.err
}

// run is the writer goroutine: it takes a batch and appends it, and fsyncs
// at most every syncInterval (see Writer).
func (w *Writer) run() {
	defer w.wg.Done()
	defer w.closeFile()
	batch := make([]Record, 0, maxBatch)
	var buf bytes.Buffer
	syncT := time.NewTimer(time.Hour)
	syncT.Stop()
	defer syncT.Stop()
	retry := time.NewTicker(retryInterval)
	defer retry.Stop()
	armed := false
	for {
		var rec Record
		select {
		case r, ok := <-w.q:
			if !ok {
				w.retryHeld(&buf) // a last try; what still fails is dropped (logged)
				w.dropHeld("writer closed with the disk still refusing records")
				return
			}
			rec = r
		case <-syncT.C:
			armed = false
			w.sync()
			continue
		case <-retry.C:
			if len(w.held) > 0 {
				w.retryHeld(&buf)
				w.sync()
			}
			continue
		}
		if w.beforeBatch != nil {
			w.beforeBatch()
		}
		batch = append(batch[:0], rec)
	fill:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-w.q:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		w.retryHeld(&buf) // older records first
		if len(w.held) > 0 {
			w.hold(batch) // the disk still refuses: keep the order
		} else {
			w.writeBatch(batch, &buf)
		}
		if !w.dirty || armed {
			continue
		}
		if wait := syncInterval - time.Since(w.lastSync); wait > 0 {
			syncT.Reset(wait)
			armed = true
		} else {
			w.sync()
		}
	}
}

// sync fsyncs the open file if it was written since its last fsync. An
// error is kept as the writer's first error and logged: the records are
// in the file, but may not be on the disk.
func (w *Writer) sync() {
	if w.file == nil || !w.dirty {
		return
	}
	w.dirty = false
	w.lastSync = time.Now()
	if err := w.file.Sync(); err != nil {
		err = fmt.Errorf("cdr: syncing %s: %w", w.fileName, err)
		if w.err == nil {
			w.err = err
		}
		w.log.Error("syncing CDRs failed", "err", err)
	}
}

// writeBatch appends records, grouping consecutive ones of the same day
// into one write; a file left for the next day's is fsynced as it closes.
func (w *Writer) writeBatch(batch []Record, buf *bytes.Buffer) {
	start := 0
	for start < len(batch) {
		name := fileName(batch[start])
		end := start
		buf.Reset()
		for end < len(batch) && fileName(batch[end]) == name {
			line, err := json.Marshal(batch[end])
			if err != nil { // cannot happen for this type; keep the record visible anyway
				w.fail(batch[end:end+1], err)
			} else {
				buf.Write(line)
				buf.WriteByte('\n')
			}
			end++
		}
		if err := w.appendFile(name, buf.Bytes()); err != nil {
			if len(w.held) == 0 {
				w.heldSince = time.Now()
				w.log.Error("writing CDRs failed: keeping them in memory and retrying every second",
					"err", err, "records", len(batch)-start)
			}
			w.hold(batch[start:])
			return
		}
		start = end
	}
}

// hold keeps records whose write failed for retryHeld, dropping the oldest
// (logged in full) beyond maxHeld.
func (w *Writer) hold(recs []Record) {
	w.held = append(w.held, recs...)
	if over := len(w.held) - maxHeld; over > 0 {
		for _, r := range w.held[:over] {
			w.drop(r, "disk refused it and more than 100000 records were held")
		}
		w.held = append(w.held[:0], w.held[over:]...)
	}
	w.heldCount.Store(int64(len(w.held)))
}

// retryHeld writes the held records, oldest first; those that fail again
// stay held.
func (w *Writer) retryHeld(buf *bytes.Buffer) {
	if len(w.held) == 0 {
		return
	}
	recs, since := w.held, w.heldSince
	w.held = nil
	w.writeBatch(recs, buf)
	if len(w.held) == 0 {
		w.heldCount.Store(0)
		w.log.Info("held CDRs written", "records", len(recs), "held_for", time.Since(since).Round(time.Millisecond))
	} else {
		w.heldSince = since
	}
}

// dropHeld drops every held record (logged in full).
func (w *Writer) dropHeld(why string) {
	for _, r := range w.held {
		w.drop(r, why)
	}
	if len(w.held) > 0 && w.err == nil {
		w.err = fmt.Errorf("cdr: %d records could not be written: %s", len(w.held), why)
	}
	w.held = nil
	w.heldCount.Store(0)
}

// fail records an encoding error and logs the record it lost.
func (w *Writer) fail(recs []Record, err error) {
	if w.err == nil {
		w.err = err
	}
	w.log.Error("writing CDRs failed", "err", err, "records", len(recs))
	for _, r := range recs {
		w.drop(r, "write failed")
	}
}

// Held returns how many records wait in memory for the disk to take them
// (a full or failing records directory).
func (w *Writer) Held() int { return int(w.heldCount.Load()) }

// appendFile appends data to the named file in dir; run fsyncs it later.
func (w *Writer) appendFile(name string, data []byte) error {
	if name != w.fileName || w.file == nil {
		w.closeFile()
		f, err := os.OpenFile(filepath.Join(w.dir, name), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return fmt.Errorf("cdr: %w", err)
		}
		fi, err := f.Stat()
		if err != nil {
			_ = f.Close()
			return fmt.Errorf("cdr: %w", err)
		}
		w.file, w.fileName, w.size = f, name, fi.Size()
	}
	if len(data) == 0 {
		return nil
	}
	if err := appendRaw(w.file, data); err != nil {
		// A short write (ENOSPC) leaves part of a line: cut it off, so
		// the file never ends in a torn record and the retry appends
		// whole lines.
		_ = w.file.Truncate(w.size)
		w.closeFile() // reopen next time
		return fmt.Errorf("cdr: writing %s: %w", name, err)
	}
	w.size += int64(len(data))
	w.dirty = true
	return nil
}

// appendRaw writes data to f with raw write(2) calls. An append of a few
// records lands in the page cache in microseconds; going through the Go
// runtime's syscall path instead wakes its sysmon thread into 20 µs
// polling whenever the process was idle, which at a thousand batches a
// second cost 5 % of Switchboard's signaling CPU. The part that waits for
// the disk, fsync, stays on the ordinary path (sync). Should the kernel
// throttle a write under heavy writeback, one scheduler thread waits with
// it; the others go on serving.
func appendRaw(f *os.File, data []byte) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var werr error
	err = rc.Write(func(fd uintptr) bool {
		for len(data) > 0 {
			n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(unsafe.SliceData(data))), uintptr(len(data)))
			switch {
			case errno == syscall.EINTR:
				continue
			case errno != 0:
				werr = errno
				return true
			case n == 0:
				werr = io.ErrShortWrite
				return true
			}
			data = data[n:]
		}
		return true
	})
	if err != nil {
		return err
	}
	return werr
}

// closeFile fsyncs the open file if needed and closes it.
func (w *Writer) closeFile() {
	if w.file != nil {
		w.sync()
		if err := w.file.Close(); err != nil && w.err == nil {
			w.err = fmt.Errorf("cdr: closing %s: %w", w.fileName, err)
		}
		w.file, w.fileName = nil, ""
	}
}

// fileName is the daily file for a record: the UTC date of End (Start if
// End is unset).
func fileName(r Record) string {
	t := r.End
	if t.IsZero() {
		t = r.Start
	}
	return "cdr-" + t.UTC().Format("2006-01-02") + ".jsonl"
}
