package config

import (
	"github.com/google/renameio/v2"

	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
)

// PasswordsFile is the name, under state.dir, of the file holding generated
// passwords.
const PasswordsFile = "passwords.json"

// passwordsDoc is the on-disk shape of PasswordsFile.
type passwordsDoc struct {
	// Passwords maps user name to generated password.
	Passwords map[string]string `json:"passwords"`
}

// ResolvePasswords gives every user whose password is empty (after ${ENV}
// expansion) a generated one, so that no account is ever open or guessable.
// Generated passwords are 26 random characters (crypto/rand, 128 bits), kept
// in <state.dir>/passwords.json (mode 0600) and reused at later starts and
// reloads. A newly generated password is written once to out as
// "user NAME password: SECRET"; it is never logged. Entries for users that
// are gone or now have a configured password are removed from the file.
func ResolvePasswords(c *Config, log *slog.Logger, out io.Writer) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	path := filepath.Join(c.State.Dir, PasswordsFile)
	var need []int
	for i, u := range c.Users {
		if u.Password == "" {
			need = append(need, i)
		}
	}
	stored, err := readPasswords(path, log)
	if err != nil {
		return err
	}
	if len(need) == 0 && stored == nil {
		return nil
	}
	if stored == nil {
		stored = make(map[string]string)
	}
	keep := make(map[string]string, len(need))
	var fresh []string
	for _, i := range need {
		u := &c.Users[i]
		pw, ok := stored[u.Name]
		if !ok || pw == "" {
			pw = rand.Text()
			fresh = append(fresh, u.Name)
		}
		u.Password = pw
		keep[u.Name] = pw
	}
	if !maps.Equal(keep, stored) {
		if err := writePasswords(path, keep); err != nil {
			return err
		}
	}
	for _, name := range fresh {
		if _, err := fmt.Fprintf(out, "user %s password: %s\n", name, keep[name]); err != nil {
			return fmt.Errorf("config: printing generated password: %w", err)
		}
		log.Info("generated password for user; printed once, stored in state dir",
			"user", name, "file", path)
	}
	return nil
}

// readPasswords returns the stored passwords, or nil when the file does not
// exist. A file readable by others is tightened to 0600.
func readPasswords(path string, log *slog.Logger) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: reading generated passwords: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("generated passwords file was readable by others; setting mode 0600",
			"file", path, "mode", fi.Mode().Perm().String())
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
	}
	var doc passwordsDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("config: %s is corrupt (delete it to generate new passwords): %w", path, err)
	}
	if doc.Passwords == nil {
		doc.Passwords = make(map[string]string)
	}
	return doc.Passwords, nil
}

// writePasswords replaces the file atomically (temp file, fsync, rename).
func writePasswords(path string, pw map[string]string) error {
	doc := passwordsDoc{Passwords: pw}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	// encoding/json sorts map keys, so the file is stable across runs.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("config: storing generated passwords: %w", err)
	}
	if err := renameio.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("config: storing generated passwords: %w", err)
	}
	return nil
}
