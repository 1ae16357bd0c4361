package cdr

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriterRepairsTornTail(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cdr-2026-12-03.jsonl")
	if err := os.WriteFile(p, []byte("{\"call_id\":\"a\"}\n{\"call_id\":\"b\",\"fr"), 0o640); err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	w.Write(Record{CallID: "c", Start: end, End: end})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	lines := 0
	for _, c := range b {
		if c == '\n' {
			lines++
		}
	}
	if lines != 2 || string(b[:16]) != "{\"call_id\":\"a\"}\n" || string(b[16:29]) != "{\"call_id\":\"c" {
		t.Errorf("file after repair and one record:\n%s", b)
	}
}
