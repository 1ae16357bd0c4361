package test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/sipdns/dnstest"
)

// Trunks given by host name (issue 13, item 1): an in-process DNS server
// (package dnstest, miekg/dns) on loopback serves the SRV and A records of
// carrier.test; Switchboard resolves the trunk through it (dns.servers)
// and fails over between the SRV targets within the call.

// dnsTrunkSB starts Switchboard with user 1000 and trunk "carrier" at
// sip:carrier.test, resolved through the DNS server at dnsAddr.
func dnsTrunkSB(t *testing.T, dnsAddr, trunkExtra string) *SB {
	t.Helper()
	requireTool(t, "sipp")
	return startSB(t, SBOptions{Users: []string{"1000"},
		Trunks: `  - {name: carrier, uri: "sip:carrier.test", trusted: [127.0.0.2/32]` + trunkExtra + `}`,
		Routes: `  - {match: '^9(\d+)$', to: trunk:carrier, rewrite: '$1'}`,
		Extra:  "dns:\n  servers: [" + dnsAddr + "]\n"})
}

// srvZone serves carrier.test with one _sip._udp SRV record per target
// (IPv4 address and port), in the given priority order: sip1, sip2, ...
func srvZone(t *testing.T, targets ...string) *dnstest.Zone {
	t.Helper()
	var lines []string
	for i, tg := range targets {
		ip, port, _ := strings.Cut(tg, ":")
		lines = append(lines,
			fmt.Sprintf("_sip._udp 60 IN SRV %d 10 %s sip%d", 10*(i+1), port, i+1),
			fmt.Sprintf("sip%d 60 IN A %s", i+1, ip))
	}
	return dnstest.Start(t, "carrier.test", 60, lines...)
}

// dnsCaller is an answered call from user 1000 to 95551234, hung up by
// the caller.
func dnsCaller(t *testing.T) string {
	return writeScenario(t, "uac-dns", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<pause milliseconds="300"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`)
}

// dnsCallee answers calls and takes the caller's BYE.
func dnsCallee(t *testing.T) string {
	return writeScenario(t, "uas-dns", answeredCallee(`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""),
		refs("remote_from", "remote_contact"))...)
}

// expectTargets checks a CDR's trunk_targets: one entry per port tried,
// each failed one ending in its reason.
func expectTargets(t *testing.T, c CDR, want ...string) {
	t.Helper()
	if len(c.TrunkTargets) != len(want) {
		t.Fatalf("trunk_targets %q, want %d entries like %q", c.TrunkTargets, len(want), want)
	}
	for i, w := range want {
		if !strings.Contains(c.TrunkTargets[i], w) {
			t.Errorf("trunk_targets[%d] = %q, want it to contain %q", i, c.TrunkTargets[i], w)
		}
	}
}

// TestTrunkDNSFailoverDeadTarget: the first SRV target (priority 10) has
// no listener; after failover_timeout without any response the call moves
// to the second (priority 20) and is answered there. The CDR lists both.
func TestTrunkDNSFailoverDeadTarget(t *testing.T) {
	port := sigPeerPort()
	dead := port + 8 // nothing listens there
	z := srvZone(t, "127.0.0.2:"+strconv.Itoa(dead), "127.0.0.2:"+strconv.Itoa(port))
	sb := dnsTrunkSB(t, z.Addr(), ", failover_timeout: 400ms")
	dir := t.TempDir()
	uasDone := sigSippUAS(t, dir, dnsCallee(t), "127.0.0.2", port, port+2)
	start := time.Now()
	sippOK(t, "caller", trunkCaller(t, sb, dir, port, dnsCaller(t)))
	sippOK(t, "callee", <-uasDone)
	c := oneCDR(t, sb)
	expectCDR(t, c, 200, "answered", "caller")
	expectTargets(t, c, "udp 127.0.0.2:"+strconv.Itoa(dead)+" (sip1.carrier.test. via _sip._udp.carrier.test.) → timeout",
		"udp 127.0.0.2:"+strconv.Itoa(port)+" (sip2.carrier.test.")
	t.Logf("call through the second target in %s (failover_timeout 400ms)", time.Since(start).Round(time.Millisecond))
	if z.Count("_sip._udp.carrier.test", 33) == 0 {
		t.Error("the SRV record was never asked for")
	}
}

// TestTrunkDNSFailover503: the first SRV target answers 503 with
// Retry-After; the call is answered by the second. The next call skips
// the first target while it is held down, straight to the second.
func TestTrunkDNSFailover503(t *testing.T) {
	port := sigPeerPort()
	z := srvZone(t, "127.0.0.4:"+strconv.Itoa(port), "127.0.0.2:"+strconv.Itoa(port))
	sb := dnsTrunkSB(t, z.Addr(), "")
	dir := t.TempDir()
	uas503 := writeScenario(t, "uas-503", `<recv request="INVITE"/>`,
		withHeader(reply("503", "Service Unavailable", false, ""), "Retry-After: 120"), `<recv request="ACK"/>`)
	busyDone := sigSippUAS(t, dir, uas503, "127.0.0.4", port, port+2)
	liveDone := make(chan Sipp, 1)
	go func() {
		liveDone <- runSipp(t, dir, 60*time.Second, "-sf", dnsCallee(t), "-i", "127.0.0.2", "-p", strconv.Itoa(port),
			"-mi", "127.0.0.2", "-mp", strconv.Itoa(port+2), "-m", "2", "-timeout", "50s", "-timeout_error")
	}()
	waitPort(t, "udp", "127.0.0.2:"+strconv.Itoa(port))
	uac := dnsCaller(t)
	sippOK(t, "caller", trunkCaller(t, sb, dir, port, uac))
	sippOK(t, "busy callee", <-busyDone)
	c := oneCDR(t, sb)
	expectCDR(t, c, 200, "answered", "caller")
	expectTargets(t, c, "udp 127.0.0.4:"+strconv.Itoa(port)+" (sip1.carrier.test. via _sip._udp.carrier.test.) → 503",
		"udp 127.0.0.2:"+strconv.Itoa(port)+" (sip2")

	sippOK(t, "second caller", trunkCaller(t, sb, dir, port, uac))
	r := <-liveDone
	if r.Err != nil || r.Stats.Successful != 2 {
		t.Errorf("live callee: %v\n%s", r.Err, tail(r.Out, 3000))
	}
	recs := sb.WaitCDRs(2, 10*time.Second)
	if len(recs) != 2 {
		t.Fatalf("%d CDRs, want 2", len(recs))
	}
	expectTargets(t, recs[1], "udp 127.0.0.2:"+strconv.Itoa(port)+" (sip2")
}
