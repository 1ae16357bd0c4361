package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackagingFiles: the systemd unit passes systemd-analyze verify (with
// ExecStart pointed at the built binary), and the packaged configuration
// passes switchboard -check.
func TestPackagingFiles(t *testing.T) {
	analyze := requireTool(t, "systemd-analyze")
	unit, err := os.ReadFile("../packaging/switchboard.service")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	u := strings.ReplaceAll(string(unit), "/usr/local/bin/switchboard", binPath)
	path := filepath.Join(dir, "switchboard.service")
	if err := os.WriteFile(path, []byte(u), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", path).CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	if out, err := exec.Command(binPath, "-config", "../packaging/switchboard.yaml", "-check").CombinedOutput(); err != nil {
		t.Errorf("packaged configuration: %v\n%s", err, out)
	}
	for _, f := range []string{"Dockerfile", "switchboard.tmpfiles"} {
		if _, err := os.Stat(filepath.Join("../packaging", f)); err != nil {
			t.Error(err)
		}
	}
}
