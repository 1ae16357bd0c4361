package config

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestResolvePasswords(t *testing.T) {
	dir := t.TempDir()
	mk := func() *Config {
		return &Config{State: State{Dir: filepath.Join(dir, "state")}, Users: []User{
			{Name: "1000"}, {Name: "1001", Password: "from-env"}, {Name: "1002"},
		}}
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	// First start: two passwords generated and printed once.
	c1 := mk()
	var out bytes.Buffer
	if err := ResolvePasswords(c1, log, &out); err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^user (\d+) password: (\S+)$`)
	printed := map[string]string{}
	for _, m := range line.FindAllStringSubmatch(out.String(), -1) {
		printed[m[1]] = m[2]
	}
	if len(printed) != 2 || printed["1000"] != c1.Users[0].Password || printed["1002"] != c1.Users[2].Password {
		t.Fatalf("printed %q, users %+v", out.String(), c1.Users)
	}
	if c1.Users[1].Password != "from-env" {
		t.Error("configured password replaced")
	}
	for _, u := range []User{c1.Users[0], c1.Users[2]} {
		if len(u.Password) < 16 {
			t.Errorf("password %q shorter than 16", u.Password)
		}
		if strings.Contains(logs.String(), u.Password) {
			t.Error("password logged")
		}
	}
	if c1.Users[0].Password == c1.Users[2].Password {
		t.Error("two users got the same password")
	}
	path := filepath.Join(dir, "state", PasswordsFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}

	// Second start: same passwords, nothing printed.
	c2 := mk()
	out.Reset()
	if err := ResolvePasswords(c2, log, &out); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("printed again: %q", out.String())
	}
	if c2.Users[0].Password != c1.Users[0].Password || c2.Users[2].Password != c1.Users[2].Password {
		t.Error("passwords not reused")
	}

	// User 1002 now configured, 1003 added: 1002 leaves the file, 1003 is new.
	c3 := mk()
	c3.Users[2].Password = "set"
	c3.Users = append(c3.Users, User{Name: "1003"})
	out.Reset()
	if err := ResolvePasswords(c3, log, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "user 1003 password: ") || strings.Count(out.String(), "\n") != 1 {
		t.Errorf("printed %q", out.String())
	}
	var doc passwordsDoc
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.Passwords["1002"]; ok || len(doc.Passwords) != 2 || doc.Passwords["1000"] != c1.Users[0].Password {
		t.Errorf("file %v", doc.Passwords)
	}

	// A file others can read is tightened; a corrupt one is an error.
	os.Chmod(path, 0o644)
	if err := ResolvePasswords(mk(), log, &out); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after tightening", fi.Mode().Perm())
	}
	os.WriteFile(path, []byte("{"), 0o600)
	if err := ResolvePasswords(mk(), log, &out); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("corrupt file: %v", err)
	}
}

func TestResolvePasswordsNothingToDo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	c := &Config{State: State{Dir: dir}, Users: []User{{Name: "1000", Password: "x"}}}
	if err := ResolvePasswords(c, nil, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Error("state dir created though no password was generated")
	}
}

func TestResolveAPIToken(t *testing.T) {
	dir := t.TempDir()
	c := &Config{State: State{Dir: dir}, API: API{Listen: "127.0.0.1:8080"}}
	var out bytes.Buffer
	if err := ResolveAPIToken(c, &out); err != nil {
		t.Fatal(err)
	}
	tok := c.API.Token
	if len(tok) < 40 || !strings.Contains(out.String(), "api token: "+tok) {
		t.Fatalf("token %q, printed %q", tok, out.String())
	}
	fi, err := os.Stat(filepath.Join(dir, APITokenFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}
	// The next start reuses it and prints nothing.
	c2 := &Config{State: State{Dir: dir}, API: API{Listen: "127.0.0.1:8080"}}
	out.Reset()
	if err := ResolveAPIToken(c2, &out); err != nil || c2.API.Token != tok || out.Len() != 0 {
		t.Errorf("second start: token %q (want %q), printed %q, err %v", c2.API.Token, tok, out.String(), err)
	}
	// A configured token, or no API, generates nothing.
	c3 := &Config{State: State{Dir: t.TempDir()}, API: API{Listen: "127.0.0.1:8080", Token: "configured-token-123"}}
	if err := ResolveAPIToken(c3, &out); err != nil || c3.API.Token != "configured-token-123" {
		t.Errorf("configured token replaced: %q %v", c3.API.Token, err)
	}
}
