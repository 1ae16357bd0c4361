package test

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Fault tests (issue 16): Switchboard keeps serving, and every call ends
// with one record, when a peer or the machine misbehaves.

// TestFaultUDPFloodFromOneSource: one source floods Switchboard with
// INVITEs over UDP (20,000 a second for 4 s) while another places calls
// normally. The flood is held to its source's rate before it is parsed
// (security.rate, checked in the read filter), so every normal call
// succeeds with its record, and the flooder gets no more answers than its
// burst and rate allow.
func TestFaultUDPFloodFromOneSource(t *testing.T) {
	requireTool(t, "sipp")
	dir := t.TempDir()
	uasPort := 15000 + 10*instance()
	sb := trunkSetup(t, uasPort, SBOptions{Security: "  rate: 50\n  burst: 100\n  auth_failures: 1000\n  user_failures: -1\n"})
	startSipp(t, dir, "-sf", scenario(t, "bench_uas.xml"), "-i", "127.0.0.2", "-p", strconv.Itoa(uasPort),
		"-mi", "127.0.0.2", "-mp", strconv.Itoa(uasPort+2), "-aa")
	waitPort(t, "udp", fmt.Sprintf("127.0.0.2:%d", uasPort))

	flooder, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 5)})
	if err != nil {
		t.Fatal(err)
	}
	defer flooder.Close()
	dst, _ := net.ResolveUDPAddr("udp", sb.Addr())
	var answers atomic.Int64
	go func() {
		buf := make([]byte, 65535)
		for {
			if _, _, err := flooder.ReadFromUDP(buf); err != nil {
				return
			}
			answers.Add(1)
		}
	}()
	const floodFor, perMs = 4 * time.Second, 20
	var sent atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Bounded in time and count: 20 INVITEs a millisecond for 4 s.
		start := time.Now()
		for i := 0; time.Since(start) < floodFor && i < 200000; {
			for range perMs {
				inv := newSigReq("INVITE", "sip:95551234@"+sb.Addr(), "1000", "95551234")
				inv.Body = sigSDP("0")
				if _, err := flooder.WriteToUDP([]byte(inv.text("UDP", flooder.LocalAddr().String())), dst); err == nil {
					sent.Add(1)
				}
				i++
			}
			time.Sleep(time.Millisecond)
		}
	}()

	const calls = 40
	r := runSipp(t, dir, 60*time.Second, "-sf", scenario(t, "bench_uac.xml"), sb.Addr(),
		"-i", "127.0.0.3", "-p", strconv.Itoa(uasPort+4), "-mi", "127.0.0.3", "-mp", strconv.Itoa(uasPort+6),
		"-s", "95551234", "-key", "user", "1000", "-au", "1000", "-ap", sb.Users["1000"],
		"-r", "10", "-m", strconv.Itoa(calls), "-l", "100", "-d", "300", "-timeout", "50", "-timeout_error")
	wg.Wait()
	if r.Stats.Successful != calls || r.Stats.Failed != 0 || r.Err != nil {
		t.Fatalf("calls during the flood: %d successful, %d failed, err %v\n%s", r.Stats.Successful, r.Stats.Failed, r.Err, tail(r.Out, 3000))
	}
	recs := sb.WaitCDRs(calls, 10*time.Second)
	if len(recs) != calls {
		t.Fatalf("%d CDRs, want %d", len(recs), calls)
	}
	for _, c := range recs {
		if c.Disposition != "answered" {
			t.Errorf("CDR %+v", c)
		}
	}
	time.Sleep(500 * time.Millisecond) // answers still in flight
	// burst 100 + 50/s over the flood, with room for timing: anything near
	// the 80,000 sent means the flood was not limited.
	n, max := answers.Load(), int64(100+50*floodFor.Seconds()*2)
	t.Logf("flood: %d INVITEs sent, %d answered (at most %d allowed)", sent.Load(), n, max)
	if sent.Load() < 10000 {
		t.Fatalf("only %d flood INVITEs sent: no flood", sent.Load())
	}
	if n > max {
		t.Fatalf("the flooder got %d answers to %d INVITEs, want at most %d", n, sent.Load(), max)
	}
	if !strings.Contains(sb.Output(), "event=rate_limit src=127.0.0.5") {
		t.Errorf("no rate_limit security event for the flooder:\n%s", tail(sb.Output(), 2000))
	}
}

// TestFaultTrunkStopsAnsweringMidInvite: the trunk answers the INVITE with
// 100 Trying and then goes silent (no final response, no answer to the
// CANCEL). The caller still gets a clean final response when the ring
// timeout ends the call, there is exactly one record, and Switchboard
// keeps serving.
func TestFaultTrunkStopsAnsweringMidInvite(t *testing.T) {
	port, trunkPort := sigPeerPort(), sigPeerPort()
	sb := sigStart(t, port, SBOptions{RingTimeout: "3s", Grace: "1s"}, trunkPort)
	trunk := newSigUA(t, fmt.Sprintf("127.0.0.2:%d", trunkPort), sb.Addr())
	caller := newSigUA(t, "127.0.0.3:0", sb.Addr())

	inv := newSigReq("INVITE", "sip:95551234@127.0.0.1", "1000", "95551234")
	inv.Body = sigSDP("0 8")
	caller.start(inv, "1000", sb.Users["1000"])
	in, _ := trunk.awaitRequest("INVITE", 5*time.Second)
	trunk.respond(in, 100, "Trying") // and nothing more
	t0 := time.Now()
	res, raw := caller.final(inv, 15*time.Second)
	t.Logf("final %d after %v", res.StatusCode, time.Since(t0))
	if res.StatusCode < 400 || res.StatusCode >= 700 {
		t.Fatalf("caller got %d, want a failure response:\n%s", res.StatusCode, raw)
	}
	if _, raw := trunk.awaitRequest("CANCEL", 5*time.Second); !strings.HasPrefix(raw, "CANCEL ") {
		t.Errorf("the trunk never got the CANCEL:\n%s", raw)
	}
	c := oneCDR(t, sb)
	t.Logf("record after %v", time.Since(t0))
	if c.Status != res.StatusCode || c.Disposition == "answered" {
		t.Errorf("CDR status=%d disposition=%s, want %d and not answered", c.Status, c.Disposition, res.StatusCode)
	}
	// Still serving: an OPTIONS is answered.
	opt := newSigReq("OPTIONS", "sip:"+sb.Addr(), "1000", "sb")
	if res, raw := caller.do(opt); res.StatusCode != 200 {
		t.Fatalf("OPTIONS after the fault: %d\n%s", res.StatusCode, raw)
	}
	_ = os.Getenv // keep imports stable for the disk test
}
