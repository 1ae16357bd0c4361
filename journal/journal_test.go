package journal

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/cdr"
)

func readRecords(t *testing.T, dir string) []cdr.Record {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "cdr-*.jsonl"))
	var out []cdr.Record
	for _, p := range names {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var r cdr.Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			out = append(out, r)
		}
		f.Close()
	}
	return out
}

// TestRecoverAfterCrash: two calls up, one ends normally, then the
// process "dies" (the journal is abandoned without Close): Recover writes
// one interrupted record for the other, ending at the last alive mark,
// and a second Recover writes nothing.
func TestRecoverAfterCrash(t *testing.T) {
	state, records := t.TempDir(), t.TempDir()
	j, err := Open(state, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := cdr.NewWriter(records, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Minute)
	up := func(id string) cdr.Record {
		r := cdr.Record{CallID: id, ACallID: id + "@h", From: "1000@h", Dialled: "1001", Caller: "1000", Start: start, Answer: start.Add(2 * time.Second), CodecA: "PCMU/8000"}
		j.Up(&r)
		return r
	}
	up("up-1")
	ended := up("ended-1")
	ended.End, ended.Status, ended.Disposition = time.Now(), 200, cdr.Answered
	w.Write(ended)
	j.Ended(ended.CallID)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // a flush and an alive mark
	// Crash: no Close. Stop the flusher so the test leaves no goroutine.
	close(j.stop)
	<-j.done

	n, err := Recover(state, records, nil)
	if err != nil || n != 1 {
		t.Fatalf("Recover wrote %d records (%v), want 1", n, err)
	}
	recs := readRecords(t, records)
	if len(recs) != 2 {
		t.Fatalf("%d records, want the ended call's and one interrupted", len(recs))
	}
	var got *cdr.Record
	for i := range recs {
		if recs[i].CallID == "up-1" {
			got = &recs[i]
		}
	}
	if got == nil || got.HangupReason != HangupInterrupted || got.HangupSide != cdr.HangupSwitchboard || got.Disposition != cdr.Answered ||
		got.Dialled != "1001" || got.End.Before(got.Answer) || time.Since(got.End) > 5*time.Second {
		t.Fatalf("interrupted record %+v", got)
	}
	if got.BillableS <= 0 {
		t.Errorf("billable %v", got.BillableS)
	}
	if n, err := Recover(state, records, nil); n != 0 || err != nil {
		t.Errorf("second Recover wrote %d (%v)", n, err)
	}
}

// TestCleanStopRecoversNothing: after Close, every call's record exists.
func TestCleanStopRecoversNothing(t *testing.T) {
	state, records := t.TempDir(), t.TempDir()
	j, _ := Open(state, nil)
	w, _ := cdr.NewWriter(records, nil)
	r := cdr.Record{CallID: "c1", Start: time.Now(), Answer: time.Now()}
	j.Up(&r)
	r.End = time.Now()
	w.Write(r)
	j.Ended("c1")
	_ = w.Close()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := Recover(state, records, nil); n != 0 || err != nil {
		t.Errorf("Recover after a clean stop wrote %d (%v)", n, err)
	}
}

// BenchmarkJournalCall is the journal's cost per call on the call's path:
// Up at answer and Ended at the end (the flusher's write and fsync are
// once per second for all calls).
func BenchmarkJournalCall(b *testing.B) {
	j, err := Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	r := cdr.Record{CallID: "sb-0123456789abcdef-1", ACallID: "abc@127.0.0.3", From: "1000@127.0.0.1", To: "95551234@127.0.0.1",
		Dialled: "95551234", Caller: "1000", Route: `^9(\d+)$`, Trunk: "carrier", Start: time.Now(), Answer: time.Now(),
		CodecA: "PCMU", CodecB: "PCMU"}
	b.ReportAllocs()
	for b.Loop() {
		j.Up(&r)
		j.Ended(r.CallID)
	}
}
