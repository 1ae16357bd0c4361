package test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// newSigTLSUA connects to dst (a tls:// listener) over TLS without
// verifying its certificate (the harness's is self-signed).
func newSigTLSUA(t testing.TB, dst string) *sigUA {
	t.Helper()
	conn, err := tls.Dial("tcp", dst, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("TLS connect %s: %v", dst, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &sigUA{t: t, transport: "TLS", tcp: conn, rd: bufio.NewReader(conn), Local: conn.LocalAddr().String()}
}

// SIP Outbound (RFC 5626) and GRUU (RFC 5627) end to end: phones behind a
// NAT-like setup (nothing listens on their Contact ports) registered over
// TCP flows are reached over those flows only.

// outboundRegister registers user's flow reg-id over ua for instance, with
// a Contact on a port nobody listens on, and returns the 200's text; it
// fails unless the 200 says Require: outbound with a Flow-Timer.
func outboundRegister(t *testing.T, ua *sigUA, sb *SB, user, instance string, regID, deadPort int) string {
	t.Helper()
	cseq := 1
	contact := fmt.Sprintf(`<sip:%s@127.0.0.1:%d;transport=%s>;+sip.instance="<urn:uuid:%s>";reg-id=%d`,
		user, deadPort, strings.ToLower(ua.transport), instance, regID)
	res, raw := sigRegister(t, ua, sb, user, "ob-"+randToken(), &cseq, []string{contact},
		"Supported: outbound, gruu", "Expires: 300")
	if res.StatusCode != 200 {
		t.Fatalf("REGISTER flow %s/%d: %d\n%s", instance, regID, res.StatusCode, raw)
	}
	if h := res.GetHeader("Require"); h == nil || h.Value() != "outbound" || res.GetHeader("Flow-Timer") == nil {
		t.Fatalf("200 to an outbound REGISTER without Require: outbound and Flow-Timer:\n%s", raw)
	}
	return raw
}

// gruuOf finds, in a 200 to REGISTER, the GRUU (kind "pub-gruu" or
// "temp-gruu") given to instance.
func gruuOf(t *testing.T, raw, kind, instance string) string {
	t.Helper()
	for _, line := range strings.Split(raw, "\r\n") {
		if !strings.Contains(line, instance) {
			continue
		}
		if m := regexp.MustCompile(kind + `="([^"]+)"`).FindStringSubmatch(line); m != nil {
			return m[1]
		}
	}
	t.Fatalf("no %s for %s in\n%s", kind, instance, raw)
	return ""
}

// outboundCall places a call from a fresh UDP UA to ruri and returns the
// INVITE as the phone on want received it; want answers 486 and the caller
// must see that 486.
func outboundCall(t *testing.T, sb *SB, ruri string, want *sigUA) {
	t.Helper()
	caller := newSigUA(t, "127.0.0.1:0", sb.Addr())
	r := newSigReq("INVITE", ruri, "1000", "1002")
	r.Body = sigSDP("0")
	caller.start(r, "1000", sb.Users["1000"])
	inv, _ := want.awaitRequest("INVITE", 10*time.Second)
	want.respond(inv, 486, "Busy Here")
	res, raw := caller.final(r, 10*time.Second)
	if res.StatusCode != 486 {
		t.Fatalf("call to %s: %d, want the 486 of the flow it should reach\n%s", ruri, res.StatusCode, raw)
	}
	caller.send(caller.ack(r, res).text(caller.transport, caller.Local))
}

// noInvite fails if ua receives an INVITE within d.
func noInvite(t *testing.T, ua *sigUA, name string, d time.Duration) {
	t.Helper()
	m, raw, err := ua.read(time.Now().Add(d))
	if err == nil && m != nil && strings.HasPrefix(raw, "INVITE ") {
		t.Fatalf("%s received an INVITE it should not:\n%s", name, raw)
	}
}

// TestOutboundFlowFailoverAndGRUU: user 1002 has two instances behind a
// NAT (no Contact port listens): A with two TCP flows (reg-id 1 and 2), B
// with one over TLS. A call to A's pub-gruu reaches A only, over its freshest flow;
// once that flow's connection closes, a call to the user reaches A over
// its other flow (and B over its own); a call to B's temp-gruu reaches B
// only; a GRUU of no registered instance gets 480. Every call ends in one
// CDR.
func TestOutboundFlowFailoverAndGRUU(t *testing.T) {
	t.Parallel()
	sb := startSB(t, SBOptions{Users: []string{"1000", "1002"}, TLS: true})
	dead := sigPeerPort() // a block of our own, nothing listens on it
	instA, instB := "aaaaaaaa-0000-1000-8000-"+randToken(), "bbbbbbbb-0000-1000-8000-"+randToken()
	a2 := newSigTCPUA(t, "127.0.0.1", sb.Addr())
	outboundRegister(t, a2, sb, "1002", instA, 2, dead)
	time.Sleep(1100 * time.Millisecond) // flow 1 is then the freshest of A
	a1 := newSigTCPUA(t, "127.0.0.1", sb.Addr())
	rawA := outboundRegister(t, a1, sb, "1002", instA, 1, dead)
	b1 := newSigTLSUA(t, fmt.Sprintf("127.0.0.1:%d", sb.TLSPort))
	rawB := outboundRegister(t, b1, sb, "1002", instB, 1, dead+1)
	pubA := gruuOf(t, rawA, "pub-gruu", instA)
	if !strings.Contains(pubA, ";gr=urn:uuid:"+instA) {
		t.Fatalf("pub-gruu %q does not name instance %s", pubA, instA)
	}
	tempB := gruuOf(t, rawB, "temp-gruu", instB)

	// The pub-gruu of A reaches A, over flow 1, and nothing else.
	outboundCall(t, sb, pubA, a1)
	noInvite(t, b1, "instance B (pub-gruu of A)", 500*time.Millisecond)
	noInvite(t, a2, "flow 2 of A (pub-gruu of A, flow 1 alive)", 10*time.Millisecond)

	// Flow 1 dies with its connection: A is reached over flow 2.
	a1.Close()
	time.Sleep(500 * time.Millisecond) // Switchboard reads the close
	caller := newSigUA(t, "127.0.0.1:0", sb.Addr())
	r := newSigReq("INVITE", "sip:1002@127.0.0.1", "1000", "1002")
	r.Body = sigSDP("0")
	caller.start(r, "1000", sb.Users["1000"])
	invA, _ := a2.awaitRequest("INVITE", 10*time.Second)
	invB, _ := b1.awaitRequest("INVITE", 10*time.Second)
	a2.respond(invA, 486, "Busy Here")
	b1.respond(invB, 486, "Busy Here")
	if res, raw := caller.final(r, 10*time.Second); res.StatusCode != 486 {
		t.Fatalf("call to the AOR: %d\n%s", res.StatusCode, raw)
	} else {
		caller.send(caller.ack(r, res).text(caller.transport, caller.Local))
	}

	// The temp-gruu of B reaches B only.
	outboundCall(t, sb, tempB, b1)
	noInvite(t, a2, "instance A (temp-gruu of B)", 500*time.Millisecond)

	// A GRUU naming no registered instance: 480 (RFC 5627 §7).
	caller = newSigUA(t, "127.0.0.1:0", sb.Addr())
	r = newSigReq("INVITE", "sip:1002@127.0.0.1;gr=urn:uuid:cccccccc-0000-1000-8000-"+randToken(), "1000", "1002")
	r.Body = sigSDP("0")
	if res, raw := caller.doAuth(r, "1000", sb.Users["1000"]); res.StatusCode != 480 {
		t.Fatalf("call to an unknown GRUU: %d\n%s", res.StatusCode, raw)
	} else {
		caller.send(caller.ack(r, res).text(caller.transport, caller.Local))
	}

	if recs := sb.WaitCDRs(4, 10*time.Second); len(recs) != 4 {
		t.Fatalf("want 4 CDRs, got %+v", recs)
	}
}
