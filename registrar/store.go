package registrar

import (
	"github.com/google/renameio/v2"

	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// fileDoc is the on-disk shape of bindings.json.
type fileDoc struct {
	Version  int       `json:"version"`
	Saved    time.Time `json:"saved"`
	Bindings []Binding `json:"bindings"`
}

const fileVersion = 1

// load reads the persisted bindings, dropping those expired by now. A file
// that cannot be parsed is moved aside (bindings are soft state: phones
// re-register) and logged, so a corrupt file never stops the server.
func (r *Registrar) load() error {
	data, err := os.ReadFile(r.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("registrar: %w", err)
	}
	var doc fileDoc
	if err := json.Unmarshal(data, &doc); err != nil || doc.Version != fileVersion {
		aside := fmt.Sprintf("%s.corrupt-%d", r.path, r.now().Unix())
		r.log.Error("bindings file unreadable; starting empty and moving it aside",
			"file", r.path, "moved_to", aside, "err", err, "version", doc.Version)
		if err := os.Rename(r.path, aside); err != nil {
			return fmt.Errorf("registrar: moving corrupt %s aside: %w", r.path, err)
		}
		return nil
	}
	now := r.now()
	n := 0
	for _, b := range doc.Bindings {
		if !b.Expires.After(now) || b.User == "" || b.ConnectionBound() {
			continue // expired, or its connection is gone (flow.go)
		}
		k, err := contactKey(b.Contact)
		if err != nil {
			r.log.Warn("dropping persisted binding with bad contact", "user", b.User, "contact", b.Contact, "err", err)
			continue
		}
		b.key = k
		r.users[b.User] = append(r.users[b.User], b)
		n++
	}
	if n != len(doc.Bindings) {
		r.version = 1 // write the pruned set back on the first persist
	}
	r.log.Info("loaded bindings", "file", r.path, "bindings", n, "expired_or_bad", len(doc.Bindings)-n)
	return nil
}

// persist writes the bindings if they changed since the last write. Only the
// run goroutine calls it (and Close, after that goroutine has ended).
func (r *Registrar) persist() error {
	r.mu.Lock()
	if r.version == r.written {
		r.mu.Unlock()
		return nil
	}
	v := r.version
	doc := fileDoc{Version: fileVersion, Saved: r.now().UTC()}
	for _, bs := range r.users {
		doc.Bindings = append(doc.Bindings, bs...)
	}
	r.mu.Unlock()
	sortBindings(doc.Bindings)
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("registrar: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(r.path), 0o700); err != nil {
		return fmt.Errorf("registrar: writing %s: %w", r.path, err)
	}
	if err := renameio.WriteFile(r.path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("registrar: writing %s: %w", r.path, err)
	}
	r.mu.Lock()
	r.written = v
	r.mu.Unlock()
	return nil
}
