package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/renameio/v2"

	"github.com/switchboard/switchboard/cdr"
)

// FileName is the journal's name under the state directory.
const FileName = "calls.journal"

// HangupInterrupted is the hangup_reason of a record written by Recover.
const HangupInterrupted = "interrupted"

const (
	flushEvery   = time.Second
	aliveEvery   = 2 * time.Second
	compactAt    = 16 << 20 // bytes
	keepEndedFor = 5 * time.Second
)

// line is one journal line: a call that went up, or an alive mark.
type line struct {
	Up    *upCall `json:"up,omitempty"`
	Alive int64   `json:"alive,omitempty"` // unix ms: every call up was alive then
}

// upCall is what an interrupted call's record is rebuilt from: the
// record's fields known at answer time (a small struct of its own, three
// times cheaper to encode than the whole record).
type upCall struct {
	CallID      string    `json:"id"`
	ACallID     string    `json:"a,omitempty"`
	BCallID     string    `json:"b,omitempty"`
	From        string    `json:"from,omitempty"`
	To          string    `json:"to,omitempty"`
	Dialled     string    `json:"dialled,omitempty"`
	Caller      string    `json:"caller,omitempty"`
	SourceTrunk string    `json:"source_trunk,omitempty"`
	Route       string    `json:"route,omitempty"`
	Trunk       string    `json:"trunk,omitempty"`
	Start       time.Time `json:"start"`
	Answer      time.Time `json:"answer"`
	CodecA      string    `json:"codec_a,omitempty"`
	CodecB      string    `json:"codec_b,omitempty"`
	Transcoded  bool      `json:"transcoded,omitempty"`
}

func upOf(r *cdr.Record) *upCall {
	return &upCall{CallID: r.CallID, ACallID: r.ACallID, BCallID: r.BCallID, From: r.From, To: r.To,
		Dialled: r.Dialled, Caller: r.Caller, SourceTrunk: r.SourceTrunk, Route: r.Route, Trunk: r.Trunk,
		Start: r.Start, Answer: r.Answer, CodecA: r.CodecA, CodecB: r.CodecB, Transcoded: r.Transcoded}
}

func (u *upCall) record() *cdr.Record {
	return &cdr.Record{CallID: u.CallID, ACallID: u.ACallID, BCallID: u.BCallID, From: u.From, To: u.To,
		Dialled: u.Dialled, Caller: u.Caller, SourceTrunk: u.SourceTrunk, Route: u.Route, Trunk: u.Trunk,
		Start: u.Start, Answer: u.Answer, CodecA: u.CodecA, CodecB: u.CodecB, Transcoded: u.Transcoded}
}

// Journal records the calls that are up.
type Journal struct {
	path string
	log  *slog.Logger
	now  func() time.Time

	mu      sync.Mutex
	f       *os.File
	size    int64
	buf     bytes.Buffer
	live    map[string][]byte    // call id → its Up line, while up
	ended   map[string]endedCall // recently ended: kept through compaction
	lastErr error
	// holdEnded, when set and true, keeps ended calls past keepEndedFor:
	// the records writer still holds records the disk refused.
	holdEnded atomic.Pointer[func() bool]

	stop chan struct{}
	done chan struct{}
}

type endedCall struct {
	line []byte
	at   time.Time
}

// Open opens (creating) the journal in dir and starts its flusher. Call
// Recover before Open on the same directory to settle a previous run.
func Open(dir string, log *slog.Logger) (*Journal, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	fi, _ := f.Stat()
	j := &Journal{path: path, log: log, now: time.Now, f: f, size: fi.Size(),
		live: map[string][]byte{}, ended: map[string]endedCall{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go j.run()
	return j, nil
}

// Up journals an answered call (its record as known so far). It only
// appends to a buffer; the flusher writes it within a second.
func (j *Journal) Up(rec *cdr.Record) {
	b, err := json.Marshal(line{Up: upOf(rec)})
	if err != nil {
		return
	}
	b = append(b, '\n')
	j.mu.Lock()
	j.live[rec.CallID] = b
	j.buf.Write(b)
	j.mu.Unlock()
}

// Ended tells that the call's record was handed to the records writer.
func (j *Journal) Ended(id string) {
	j.mu.Lock()
	if b, ok := j.live[id]; ok {
		delete(j.live, id)
		j.ended[id] = endedCall{b, j.now()}
	}
	j.mu.Unlock()
}

// HoldEndedWhile keeps the entries of ended calls (through compaction)
// while held reports true, instead of for a few seconds: while the records
// writer holds records a full disk refused (cdr.Writer.Held), a crash
// still leaves those answered calls in the journal, and the next start
// writes them as interrupted.
func (j *Journal) HoldEndedWhile(held func() bool) { j.holdEnded.Store(&held) }

// Close flushes and closes the journal. The file stays: a clean stop has
// written every record, so the next Recover finds them all and writes
// nothing.
func (j *Journal) Close() error {
	close(j.stop)
	<-j.done
	j.mu.Lock()
	defer j.mu.Unlock()
	j.flushLocked(true)
	err := j.f.Close()
	return errors.Join(j.lastErr, err)
}

func (j *Journal) run() {
	defer close(j.done)
	flush := time.NewTicker(flushEvery)
	defer flush.Stop()
	lastAlive := time.Time{}
	for {
		select {
		case <-j.stop:
			return
		case now := <-flush.C:
			j.mu.Lock()
			if len(j.live) > 0 && now.Sub(lastAlive) >= aliveEvery {
				fmt.Fprintf(&j.buf, `{"alive":%d}`+"\n", now.UnixMilli())
				lastAlive = now
			}
			if h := j.holdEnded.Load(); h == nil || !(*h)() {
				for id, e := range j.ended {
					if now.Sub(e.at) > keepEndedFor {
						delete(j.ended, id)
					}
				}
			}
			j.flushLocked(false)
			if j.size > compactAt {
				j.compactLocked(now)
			}
			j.mu.Unlock()
		}
	}
}

// flushLocked writes and fsyncs what is buffered.
func (j *Journal) flushLocked(final bool) {
	if j.buf.Len() == 0 {
		return
	}
	n, err := j.f.Write(j.buf.Bytes())
	j.size += int64(n)
	j.buf.Reset()
	if err == nil {
		err = j.f.Sync()
	}
	if err != nil && (j.lastErr == nil || final) {
		j.lastErr = err
		j.log.Error("journal write failed; a crash now could lose the records of calls up", "error", err)
	}
}

// compactLocked rewrites the journal with the calls still up and those
// ended recently, atomically.
func (j *Journal) compactLocked(now time.Time) {
	var b bytes.Buffer
	for _, l := range j.live {
		b.Write(l)
	}
	for _, e := range j.ended {
		b.Write(e.line)
	}
	fmt.Fprintf(&b, `{"alive":%d}`+"\n", now.UnixMilli())
	if err := renameio.WriteFile(j.path, b.Bytes(), 0o600); err != nil {
		j.log.Error("journal compaction failed", "error", err)
		return
	}
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		j.log.Error("journal reopen failed", "error", err)
		return
	}
	_ = j.f.Close()
	j.f, j.size = f, int64(b.Len())
}

// Recover settles the journal a previous run left in dir: for every call
// it shows up whose id no record in recordsDir carries, it writes a record
// marked interrupted (hangup_side switchboard, hangup_reason
// "interrupted", end at the last alive mark) with a writer of its own,
// closed (so fsynced) before the journal is emptied: a crash during
// Recover loses nothing either. Run it before the server's own records
// writer opens. It returns how many records it wrote.
func Recover(dir, recordsDir string, log *slog.Logger) (int, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	path := filepath.Join(dir, FileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("journal: %w", err)
	}
	ups := map[string]*cdr.Record{}
	var order []string
	var lastAlive time.Time
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l line
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue // a torn last line
		}
		switch {
		case l.Up != nil && l.Up.CallID != "":
			if _, seen := ups[l.Up.CallID]; !seen {
				order = append(order, l.Up.CallID)
			}
			ups[l.Up.CallID] = l.Up.record()
		case l.Alive > 0:
			lastAlive = time.UnixMilli(l.Alive)
		}
	}
	n := 0
	if len(ups) > 0 {
		have, err := recordedIDs(recordsDir, ups)
		if err != nil {
			return 0, err
		}
		w, err := cdr.NewWriter(recordsDir, log)
		if err != nil {
			return 0, err
		}
		for _, id := range order {
			r := ups[id]
			if have[id] {
				continue
			}
			r.End = lastAlive
			if r.End.Before(r.Answer) {
				r.End = r.Answer
			}
			if r.Status == 0 {
				r.Status = 200
			}
			r.Disposition = cdr.Answered
			r.HangupSide = cdr.HangupSwitchboard
			r.HangupReason = HangupInterrupted
			w.Write(*r)
			n++
			log.Warn("call interrupted by a crash: record written from the journal", "call_id", id, "answer", r.Answer, "last_alive", lastAlive)
		}
		if err := w.Close(); err != nil {
			return n, fmt.Errorf("journal: writing interrupted records: %w", err)
		}
	}
	if err := renameio.WriteFile(path, nil, 0o600); err != nil {
		return n, fmt.Errorf("journal: %w", err)
	}
	return n, nil
}

// recordedIDs returns which of the calls have a record in dir, reading
// the records files of the days the calls could have ended on.
func recordedIDs(dir string, ups map[string]*cdr.Record) (map[string]bool, error) {
	first := time.Now()
	for _, r := range ups {
		if r.Start.Before(first) {
			first = r.Start
		}
	}
	names, err := filepath.Glob(filepath.Join(dir, "cdr-*.jsonl"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	cut := "cdr-" + first.UTC().Format("2006-01-02") + ".jsonl"
	have := map[string]bool{}
	for _, p := range names {
		if filepath.Base(p) < cut {
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var r struct {
				CallID string `json:"call_id"`
			}
			if json.Unmarshal(sc.Bytes(), &r) == nil && ups[r.CallID] != nil {
				have[r.CallID] = true
			}
		}
		f.Close()
	}
	return have, nil
}
