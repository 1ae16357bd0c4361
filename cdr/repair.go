package cdr

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
)

// repairTornTails makes every records file in dir end with a complete
// line: a crash in the middle of an append (power loss, a full disk) can
// leave a partial last line, and a line appended after it would be glued
// to it and lost to every reader. The partial tail is cut (it is a record
// the journal, package journal, writes again) and logged.
func repairTornTails(dir string, log *slog.Logger) error {
	names, err := filepath.Glob(filepath.Join(dir, "cdr-*.jsonl"))
	if err != nil {
		return err
	}
	for _, p := range names {
		if err := repairFile(p, log); err != nil {
			return fmt.Errorf("cdr: repairing %s: %w", p, err)
		}
	}
	return nil
}

func repairFile(path string, log *slog.Logger) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return err
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, fi.Size()-1); err != nil {
		return err
	}
	if last[0] == '\n' {
		return nil
	}
	// Find the last newline, reading backwards in 64 KiB steps.
	const step = 64 << 10
	keep := int64(0)
	buf := make([]byte, step)
	for end := fi.Size(); end > 0; {
		start := max(end-step, 0)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && err != io.EOF {
			return err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			keep = start + int64(i) + 1
			break
		}
		end = start
	}
	if err := f.Truncate(keep); err != nil {
		return err
	}
	log.Warn("records file ended in a partial line (a crash while writing); cut it", "file", filepath.Base(path), "bytes_cut", fi.Size()-keep)
	return f.Sync()
}
