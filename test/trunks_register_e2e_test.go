package test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTrunkRegisterWithCarrier: a second Switchboard plays the carrier
// (users 5550100, the account, and 2000, a caller). Ours registers as
// 5550100 through its trunk's register: (digest), refreshes before the
// 10 s interval runs out, and a call from 2000 at the carrier to 5550100
// reaches our registered contact, is taken as the trunk's call and rings
// our local user 1000 (a sipp callee registered with us). When the
// carrier stops, the failed refresh is retried with backoff until the
// carrier, restarted, takes the registration again; at shutdown ours
// removes its registration.
func TestTrunkRegisterWithCarrier(t *testing.T) {
	requireTool(t, "sipp")
	carrier := startSB(t, SBOptions{Users: []string{"5550100", "2000"},
		Routes: `  - {match: '^555\d+$', to: user}`})
	ours := startSB(t, SBOptions{Users: []string{"1000"},
		Trunks: fmt.Sprintf(`  - {name: carrier, uri: "sip:127.0.0.1:%d", register: {username: "5550100", password: %q, expires: 10}}`,
			carrier.SIPPort, carrier.Users["5550100"]),
		Routes: `  - {match: '^5550100$', to: user, rewrite: '1000'}`})
	logged := func(sb *SB, what string, n int) func() bool {
		return func() bool { return strings.Count(sb.Output(), what) >= n }
	}
	waitFor(t, 5*time.Second, "registered with the carrier", logged(ours, "trunk registered", 1))
	waitFor(t, 10*time.Second, "registration refreshed", logged(ours, "trunk registration refreshed", 1))
	if strings.Contains(ours.Output(), "trunk registration failed") {
		t.Error("a registration failed")
	}

	dir := t.TempDir()
	phone := sigPeerPort()
	sigRegisterFrom(t, ours, "1000", phone, 300)
	uasDone := sigSippUAS(t, dir, dnsCallee(t), "127.0.0.1", phone, phone+2)
	caller := sigPeerPort()
	sippOK(t, "caller at the carrier", sigCall(t, dir, dnsCaller(t), carrier, "127.0.0.3", caller, "2000", "5550100",
		"-au", "2000", "-ap", carrier.Users["2000"]))
	sippOK(t, "our user 1000", <-uasDone)
	c := oneCDR(t, ours)
	expectCDR(t, c, 200, "answered", "caller")
	if c.Caller != "trunk:carrier" || c.SourceTrunk != "carrier" || c.Dialled != "5550100" {
		t.Errorf("our CDR caller %q source_trunk %q dialled %q, want trunk:carrier, carrier, 5550100", c.Caller, c.SourceTrunk, c.Dialled)
	}

	// The carrier goes away: the refresh fails and is retried with
	// backoff; the carrier is back: registered again.
	env := carrier.cmd.Env
	carrier.Stop()
	waitFor(t, 30*time.Second, "failed refresh", logged(ours, "trunk registration failed", 1))
	carrier.exited = make(chan struct{})
	carrier.start(filepath.Join(carrier.Dir, "switchboard.yaml"), env)
	waitFor(t, 30*time.Second, "registered again", logged(ours, "trunk registered", 2))

	// Shutting down removes the registration (Expires: 0).
	ours.Stop()
	if !strings.Contains(ours.Output(), "trunk unregistered") {
		t.Error("no unregistration at shutdown")
	}
}
