package cdr

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRecordsHeldWhileDiskFull: while the records file refuses writes
// (ENOSPC, from /dev/full), records are held in memory, nothing is
// dropped and no torn line is left; once the disk takes writes again they
// are written, in order, once each.
func TestRecordsHeldWhileDiskFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	dir := t.TempDir()
	name := filepath.Join(dir, fileName(sample("x")))
	if err := os.Symlink("/dev/full", name); err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"c1", "c2", "c3"} {
		w.Write(sample(id))
	}
	deadline := time.Now().Add(5 * time.Second)
	for w.Held() != 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if w.Held() != 3 || w.Dropped() != 0 {
		t.Fatalf("held %d, dropped %d, want 3 held and none dropped", w.Held(), w.Dropped())
	}
	// Space returns: the path becomes a writable file.
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	w.Write(sample("c4"))
	for w.Held() != 0 && time.Now().Before(deadline.Add(5*time.Second)) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, dir)[filepath.Base(name)]
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.CallID)
	}
	if len(ids) != 4 || ids[0] != "c1" || ids[1] != "c2" || ids[2] != "c3" || ids[3] != "c4" || w.Dropped() != 0 {
		t.Fatalf("records %v (dropped %d), want c1..c4 once each, in order", ids, w.Dropped())
	}
}
