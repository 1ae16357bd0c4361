package test

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
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

// eyeballsSB starts Switchboard on UDP 127.0.0.1:base (the caller's side)
// and the listeners given (each scheme://address, at port base), with
// user 1000 and trunk "carrier" at uri resolved through z. Its
// failover_timeout is 20 s: a call that reaches IPv4 sooner went there
// by Happy Eyeballs.
func eyeballsSB(t *testing.T, base int, z *dnstest.Zone, uri string, listen ...string) *SB {
	t.Helper()
	ls := []string{fmt.Sprintf("\"udp://127.0.0.1:%d\"", base)}
	for _, l := range listen {
		ls = append(ls, fmt.Sprintf("\"%s:%d\"", l, base))
	}
	return sigStart(t, base, SBOptions{Users: []string{"1000"}, Listen: ls,
		Trunks: `  - {name: carrier, uri: "` + uri + `", trusted: [127.0.0.2/32], failover_timeout: 20s}`,
		Routes: `  - {match: '^9(\d+)$', to: trunk:carrier, rewrite: '$1'}`,
		Extra:  "dns:\n  servers: [" + z.Addr() + "]\n"}, 0)
}

// TestTrunkDNSIPv6Silent: the SRV target has an AAAA record on an address
// where nothing answers and an A record where the callee is. The IPv6
// address is tried first (RFC 8305 §4), stays silent, and after
// happy_eyeballs_delay (250 ms by default), not failover_timeout (20 s
// here) and never Timer B, the call goes over IPv4.
func TestTrunkDNSIPv6Silent(t *testing.T) {
	requireTool(t, "sipp")
	port := sigPeerPort()
	base := sigPeerPort()
	z := dnstest.Start(t, "carrier.test", 60,
		fmt.Sprintf("_sip._udp 60 IN SRV 10 10 %d sip1", port), "sip1 60 IN AAAA ::1", "sip1 60 IN A 127.0.0.2")
	sb := eyeballsSB(t, base, z, "sip:carrier.test", "udp://[::1]")
	dir := t.TempDir()
	uasDone := sigSippUAS(t, dir, dnsCallee(t), "127.0.0.2", port, port+2)
	start := time.Now()
	sippOK(t, "caller", trunkCaller(t, sb, dir, port, dnsCaller(t)))
	t.Logf("call answered over IPv4 after %s", time.Since(start).Round(time.Millisecond))
	sippOK(t, "callee", <-uasDone)
	c := oneCDR(t, sb)
	expectCDR(t, c, 200, "answered", "caller")
	expectTargets(t, c, fmt.Sprintf("udp [::1]:%d (sip1.carrier.test. via _sip._udp.carrier.test.) → no answer (happy eyeballs)", port),
		fmt.Sprintf("udp 127.0.0.2:%d (sip1.carrier.test.", port))
}

// blackHoleTCP listens on addr (an IPv6 loopback address) and accepts
// nothing: a listen backlog of 0, filled by one connection of its own, so
// the kernel drops every further SYN and a connection attempt hangs as
// on a broken IPv6 path (loopback only, no firewall rule).
func blackHoleTCP(t *testing.T, port int) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET6, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet6{Port: port, Addr: [16]byte{15: 1}}); err != nil {
		t.Fatalf("black hole on [::1]:%d: %v", port, err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("[::1]:%d", port)
	filler, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("filling the black hole's backlog: %v", err)
	}
	t.Cleanup(func() { filler.Close() })
	if c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond); err == nil {
		c.Close()
		t.Fatalf("%s accepted a connection: not a black hole", addr)
	}
}

// TestTrunkDNSIPv6BlackHoleTCP: over TCP the SRV target's IPv6 address
// swallows the SYN (blackHoleTCP) and its IPv4 address has the callee.
// The connection attempts race (RFC 8305 §5): IPv4 starts 250 ms after
// IPv6, connects, and carries the INVITE; the IPv6 attempt is cancelled
// and listed as slower. With failover_timeout at 20 s, only the race can
// make the call go through IPv4.
func TestTrunkDNSIPv6BlackHoleTCP(t *testing.T) {
	requireTool(t, "sipp")
	port := sigPeerPort()
	base := sigPeerPort()
	blackHoleTCP(t, port)
	z := dnstest.Start(t, "carrier.test", 60,
		fmt.Sprintf("_sip._tcp 60 IN SRV 10 10 %d sip1", port), "sip1 60 IN AAAA ::1", "sip1 60 IN A 127.0.0.2")
	sb := eyeballsSB(t, base, z, "sip:carrier.test;transport=tcp", "tcp://127.0.0.1", "tcp://[::1]")
	dir := t.TempDir()
	done := make(chan Sipp, 1)
	go func() {
		done <- runSipp(t, dir, 40*time.Second, "-sf", dnsCallee(t), "-t", "t1", "-i", "127.0.0.2", "-p", strconv.Itoa(port),
			"-mi", "127.0.0.2", "-mp", strconv.Itoa(port+2), "-m", "1", "-timeout", "30s", "-timeout_error")
	}()
	waitPort(t, "tcp", "127.0.0.2:"+strconv.Itoa(port))
	start := time.Now()
	sippOK(t, "caller", trunkCaller(t, sb, dir, port, dnsCaller(t)))
	t.Logf("call answered over IPv4 after %s", time.Since(start).Round(time.Millisecond))
	sippOK(t, "callee", <-done)
	c := oneCDR(t, sb)
	expectCDR(t, c, 200, "answered", "caller")
	expectTargets(t, c, fmt.Sprintf("tcp [::1]:%d (sip1.carrier.test. via _sip._tcp.carrier.test.) → slower", port),
		fmt.Sprintf("tcp 127.0.0.2:%d (sip1.carrier.test.", port))
}

// TestTrunkDNSTCPRefused: over TCP the first SRV target refuses the
// connection; the call moves at once to the second.
func TestTrunkDNSTCPRefused(t *testing.T) {
	port := sigPeerPort()
	dead := port + 8
	z := dnstest.Start(t, "carrier.test", 60,
		fmt.Sprintf("_sip._tcp 60 IN SRV 10 10 %d sip1", dead), "sip1 60 IN A 127.0.0.2",
		fmt.Sprintf("_sip._tcp 60 IN SRV 20 10 %d sip2", port), "sip2 60 IN A 127.0.0.2")
	sb := startSB(t, SBOptions{Users: []string{"1000"},
		Trunks: `  - {name: carrier, uri: "sip:carrier.test;transport=tcp", trusted: [127.0.0.2/32]}`,
		Routes: `  - {match: '^9(\d+)$', to: trunk:carrier, rewrite: '$1'}`,
		Extra:  "dns:\n  servers: [" + z.Addr() + "]\n"})
	requireTool(t, "sipp")
	dir := t.TempDir()
	done := make(chan Sipp, 1)
	go func() {
		done <- runSipp(t, dir, 40*time.Second, "-sf", dnsCallee(t), "-t", "t1", "-i", "127.0.0.2", "-p", strconv.Itoa(port),
			"-mi", "127.0.0.2", "-mp", strconv.Itoa(port+2), "-m", "1", "-timeout", "30s", "-timeout_error")
	}()
	waitPort(t, "tcp", "127.0.0.2:"+strconv.Itoa(port))
	sippOK(t, "caller", trunkCaller(t, sb, dir, port, dnsCaller(t)))
	sippOK(t, "callee", <-done)
	c := oneCDR(t, sb)
	expectCDR(t, c, 200, "answered", "caller")
	t.Logf("trunk_targets %q", c.TrunkTargets)
	expectTargets(t, c, fmt.Sprintf("tcp 127.0.0.2:%d (sip1.carrier.test. via _sip._tcp.carrier.test.) →", dead),
		fmt.Sprintf("tcp 127.0.0.2:%d (sip2.carrier.test.", port))
}
