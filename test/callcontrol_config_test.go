package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTrustedBareAddressStartsAndReloads (issue 9, "configuration parsed
// once"): a trunk trusted by a bare address (no /32) passes -check, starts
// Switchboard, is trusted (an INVITE from it is routed, not challenged),
// and survives a SIGHUP reload. It used to pass -check and stop the start,
// because a second parser wanted a '/'.
func TestTrustedBareAddressStartsAndReloads(t *testing.T) {
	sb := startSB(t, SBOptions{
		Users:  []string{"1000"},
		Trunks: `  - {name: carrier, uri: "sip:127.0.0.2:5999", trusted: [127.0.0.2]}`,
	})
	cfgPath := filepath.Join(sb.Dir, "switchboard.yaml")
	if out, err := exec.Command(binPath, "-config", cfgPath, "-check").CombinedOutput(); err != nil {
		t.Fatalf("-check: %v\n%s", err, out)
	}

	// From the trunk's address: trusted, so routed to user 1000, who is
	// not registered (480). From elsewhere: challenged (407).
	invite := func(laddr string) int {
		ua := newSigUA(t, laddr, sb.Addr())
		defer ua.Close()
		r := opsStart(ua, "INVITE", "sip:1000@127.0.0.1", "5551234", "1000", "")
		res, _ := ua.final(r, 5*time.Second)
		return res.StatusCode
	}
	if got := invite("127.0.0.2:0"); got != 480 {
		t.Fatalf("INVITE from trusted 127.0.0.2: %d, want 480 (routed to an unregistered user)", got)
	}
	if got := invite("127.0.0.1:0"); got != 407 {
		t.Fatalf("INVITE from untrusted 127.0.0.1: %d, want 407", got)
	}

	// Reload a configuration that changes the trunk's bare address list:
	// accepted, and in force.
	orig, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(orig), "trusted: [127.0.0.2]", "trusted: [127.0.0.2, 127.0.0.1]", 1)
	if text == string(orig) {
		t.Fatalf("harness config shape changed:\n%s", orig)
	}
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	sb.Signal(syscall.SIGHUP)
	if !sb.waitOutput("configuration reloaded", 5*time.Second) {
		t.Fatalf("reload with bare trusted addresses not taken:\n%s", tail(sb.Output(), 4000))
	}
	if strings.Contains(sb.Output(), "reload refused") {
		t.Fatalf("reload refused:\n%s", tail(sb.Output(), 4000))
	}
	if got := invite("127.0.0.1:0"); got != 480 {
		t.Errorf("after reload, INVITE from newly trusted 127.0.0.1: %d, want 480", got)
	}
	if !sb.Alive() {
		t.Fatal("switchboard died")
	}
}
