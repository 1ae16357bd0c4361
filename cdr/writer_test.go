package cdr

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/rtcpstats"
)

var t0 = time.Date(2025, 3, 1, 23, 59, 50, 123456789, time.UTC)

func sample(id string) Record {
	return Record{
		CallID: id, ACallID: "a-" + id, BCallID: "b-" + id,
		From: "1000", To: "1001", Dialled: "1001", Route: `^1\d{3}$`,
		Start: t0, Answer: t0.Add(2500 * time.Millisecond), End: t0.Add(65 * time.Second),
		Status: 200, Disposition: Answered, HangupSide: HangupCaller, HangupReason: "bye",
		CodecA: "PCMU/8000", CodecB: "PCMA/8000",
		AToBPackets: 3125, AToBBytes: 537500, BToAPackets: 3120, BToABytes: 536640,
	}
}

// readAll returns every record in dir, by file name.
func readAll(t *testing.T, dir string) map[string][]Record {
	t.Helper()
	out := make(map[string][]Record)
	files, _ := filepath.Glob(filepath.Join(dir, "cdr-*.jsonl"))
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			var r Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: %v: %s", f, err, sc.Bytes())
			}
			out[filepath.Base(f)] = append(out[filepath.Base(f)], r)
		}
		fh.Close()
	}
	return out
}

func TestRecordsWritten(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	answered := sample("c1") // ends after midnight: next day's file
	unanswered := sample("c2")
	unanswered.Answer = time.Time{}
	unanswered.End = t0.Add(5 * time.Second)
	unanswered.Status, unanswered.Disposition, unanswered.HangupSide, unanswered.HangupReason = 486, Busy, HangupCallee, "Busy Here"
	w.Write(answered)
	w.Write(unanswered)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, dir)
	if len(got["cdr-2025-03-02.jsonl"]) != 1 || len(got["cdr-2025-03-01.jsonl"]) != 1 {
		t.Fatalf("files: %v", got)
	}
	r := got["cdr-2025-03-02.jsonl"][0]
	want := answered
	want.Start = want.Start.Truncate(time.Millisecond)
	want.Answer = want.Answer.Truncate(time.Millisecond)
	want.End = want.End.Truncate(time.Millisecond)
	want.DurationS, want.BillableS = 65, 62.5
	if !reflect.DeepEqual(r, want) {
		t.Errorf("read back\n got %+v\nwant %+v", r, want)
	}
	u := got["cdr-2025-03-01.jsonl"][0]
	if u.DurationS != 5 || u.BillableS != 0 || !u.Answer.IsZero() {
		t.Errorf("unanswered %+v", u)
	}
	// The raw line: answer omitted, times with ms in UTC, every field named.
	raw, _ := os.ReadFile(filepath.Join(dir, "cdr-2025-03-01.jsonl"))
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["answer"]; ok {
		t.Error("answer present for an unanswered call")
	}
	if m["start"] != "2025-03-01T23:59:50.123Z" {
		t.Errorf("start = %v", m["start"])
	}
	for _, k := range []string{"call_id", "a_call_id", "b_call_id", "from", "to", "dialled", "route", "trunk", "start", "end",
		"duration_s", "billable_s", "status", "disposition", "hangup_side", "hangup_reason", "codec_a", "codec_b",
		"a_to_b_packets", "a_to_b_bytes", "b_to_a_packets", "b_to_a_bytes"} {
		if _, ok := m[k]; !ok {
			t.Errorf("field %s missing", k)
		}
	}
	if w.Dropped() != 0 {
		t.Errorf("dropped %d", w.Dropped())
	}
}

func TestCloseDrains(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 3000
	for i := 0; i < n; i++ {
		w.Write(sample(fmt.Sprint(i)))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(readAll(t, dir)["cdr-2025-03-02.jsonl"]); got != n {
		t.Errorf("%d records after Close, want %d", got, n)
	}
	// Appending across writers: a second writer adds to the same file.
	w2, _ := NewWriter(dir, nil)
	w2.Write(sample("more"))
	w2.Close()
	if got := len(readAll(t, dir)["cdr-2025-03-02.jsonl"]); got != n+1 {
		t.Errorf("%d records after reopen, want %d", got, n+1)
	}
}

func TestConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 250; i++ {
				w.Write(sample(fmt.Sprintf("g%d-%d", g, i)))
			}
		}()
	}
	wg.Wait()
	w.Close()
	recs := readAll(t, dir)["cdr-2025-03-02.jsonl"]
	ids := make([]string, 0, len(recs))
	for _, r := range recs {
		ids = append(ids, r.CallID)
	}
	sort.Strings(ids)
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			t.Fatalf("duplicate %s", ids[i])
		}
	}
	if len(ids) != 2000 {
		t.Errorf("%d records, want 2000", len(ids))
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestFullQueueDropsLoudly(t *testing.T) {
	dir := t.TempDir()
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	var once sync.Once
	w, err := newWriter(dir, log, 1, 20*time.Millisecond, func() {
		once.Do(func() { entered <- struct{}{}; <-release })
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(sample("taken")) // the goroutine takes it and blocks
	<-entered
	w.Write(sample("queued"))  // fills the queue of 1
	w.Write(sample("dropped")) // waits 20 ms, then drops
	if w.Dropped() != 1 {
		t.Fatalf("dropped %d, want 1", w.Dropped())
	}
	close(release)
	w.Close()
	w.Write(sample("late"))
	if w.Dropped() != 2 {
		t.Errorf("dropped %d after a write past Close, want 2", w.Dropped())
	}
	out := logs.String()
	for _, id := range []string{`\"call_id\":\"dropped\"`, `\"call_id\":\"late\"`} {
		if !strings.Contains(out, id) {
			t.Errorf("log lacks the dropped record %s:\n%s", id, out)
		}
	}
	if !strings.Contains(out, `"level":"ERROR"`) {
		t.Error("drop not logged at error level")
	}
	if got := len(readAll(t, dir)["cdr-2025-03-02.jsonl"]); got != 2 {
		t.Errorf("%d records written, want 2", got)
	}
}

func TestDisposition(t *testing.T) {
	tests := []struct {
		status    int
		cancelled bool
		want      string
	}{
		{200, false, Answered},
		{200, true, Answered}, // CANCEL crossed the 200: the call was answered
		{487, true, Cancelled},
		{487, false, NoAnswer},
		{486, false, Busy},
		{600, false, Busy},
		{603, false, Busy},
		{408, false, NoAnswer},
		{480, false, NoAnswer},
		{404, false, Failed},
		{503, false, Failed},
		{0, false, Failed},
	}
	for _, tt := range tests {
		if got := Disposition(tt.status, tt.cancelled); got != tt.want {
			t.Errorf("Disposition(%d, %v) = %s, want %s", tt.status, tt.cancelled, got, tt.want)
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	w, err := NewWriter(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	rec := sample("bench")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.Write(rec)
	}
	b.StopTimer() // the figure is the caller's cost; the drain (fsync) is not
	w.Close()
	b.ReportMetric(float64(w.Dropped()), "dropped")
}

// TestQualityInRecord: a call's quality record is written inside its CDR
// line under "quality" and reads back whole; a call without media has no
// "quality" key.
func TestQualityInRecord(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := &rtcpstats.CallQuality{Legs: []rtcpstats.LegQuality{
		{Leg: "a", Codec: "PCMU", PtimeMs: 20, RTTMs: 41.5, RTTSamples: 3,
			Received: rtcpstats.ReceivedQuality{Packets: 2990, Expected: 3000, Lost: 10, LossRate: 0.003, JitterMeanMs: 2.5, MOS: 4.3},
			Sent:     rtcpstats.SentQuality{Packets: 3000, Reported: true, FarLost: 4, FarMOS: 4.1}},
		{Leg: "b", Codec: "PCMA", PtimeMs: 20},
	}}
	withMedia := sample("q1")
	withMedia.Quality = q
	w.Write(withMedia)
	w.Write(sample("q2"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "cdr-*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want one per call", len(lines))
	}
	if !strings.Contains(lines[0], `"quality":{"legs":[{"leg":"a","codec":"PCMU"`) || !strings.Contains(lines[0], `"mos":4.3`) {
		t.Errorf("quality not in the CDR line: %s", lines[0])
	}
	if strings.Contains(lines[1], `"quality"`) {
		t.Errorf("call without media has a quality record: %s", lines[1])
	}
	var back Record
	if err := json.Unmarshal([]byte(lines[0]), &back); err != nil {
		t.Fatal(err)
	}
	if back.Quality == nil || fmt.Sprint(*back.Quality) != fmt.Sprint(*q) {
		t.Errorf("read back %+v, want %+v", back.Quality, q)
	}
}
