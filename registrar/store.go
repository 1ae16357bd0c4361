package registrar

import (
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
		if !b.Expires.After(now) || b.User == "" {
			continue
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
	if err := writeFileAtomic(r.path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("registrar: writing %s: %w", r.path, err)
	}
	r.mu.Lock()
	r.written = v
	r.mu.Unlock()
	return nil
}

// writeFileAtomic writes data to a temporary file beside path, syncs it and
// renames it over path, so a crash leaves either the old or the new file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: persist the rename
		d.Close()
	}
	return nil
}
