package test

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hepFrame is one SIP message as the HEP consumer decoded it.
type hepFrame struct {
	src, dst netip.AddrPort
	payload  string
}

// TestHEPExport: with hep.collector set, every SIP message of a call
// through the trunk (received from the caller, sent to the callee and
// back) reaches a real HEP consumer, Debian's sngrep listening for HEP,
// with the right addresses; sngrep decodes our HEP v3 packets and writes
// them to a pcap file that the test reads.
func TestHEPExport(t *testing.T) {
	requireTool(t, "sipp")
	sngrep := requireTool(t, "sngrep")
	dir := t.TempDir()
	hepPort := 15000 + 10*instance()
	pcap := filepath.Join(dir, "hep.pcap")
	cons := exec.Command(sngrep, "-N", "-q", "-L", fmt.Sprintf("udp:127.0.0.1:%d", hepPort), "-O", pcap)
	if err := cons.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cons.Process.Kill(); _ = cons.Wait() }()
	waitFor(t, 5*time.Second, "sngrep's HEP listener", func() bool { _, err := os.Stat(pcap); return err == nil })

	uasPort := 15000 + 10*instance()
	sb := trunkSetup(t, uasPort, SBOptions{Extra: fmt.Sprintf("hep:\n  collector: 127.0.0.1:%d\n  agent_id: 77\n", hepPort)})
	startSipp(t, dir, "-sn", "uas", "-i", "127.0.0.2", "-p", strconv.Itoa(uasPort), "-mi", "127.0.0.2", "-mp", strconv.Itoa(uasPort+2))
	waitPort(t, "udp", fmt.Sprintf("127.0.0.2:%d", uasPort))
	uac := writeScenario(t, "uac-hep", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<pause milliseconds="100"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`)
	callerPort := uasPort + 4
	r := runSipp(t, dir, 30*time.Second, "-sf", uac, sb.Addr(), "-i", "127.0.0.3", "-p", strconv.Itoa(callerPort),
		"-mi", "127.0.0.3", "-mp", strconv.Itoa(uasPort+6), "-s", "95551234", "-key", "user", "1000",
		"-au", "1000", "-ap", sb.Users["1000"], "-m", "1", "-timeout", "20s", "-timeout_error")
	if r.Stats.Successful != 1 || r.Err != nil {
		t.Fatalf("sipp: %v\n%s", r.Err, tail(r.Out, 2500))
	}
	sb.WaitCDRs(1, 5*time.Second)

	sbAddr := netip.MustParseAddrPort(sb.Addr())
	caller := netip.MustParseAddrPort(fmt.Sprintf("127.0.0.3:%d", callerPort))
	callee := netip.MustParseAddrPort(fmt.Sprintf("127.0.0.2:%d", uasPort))
	want := []struct {
		what     string
		src, dst netip.AddrPort
		start    string
	}{
		{"the caller's INVITE", caller, sbAddr, "INVITE sip:95551234@"},
		{"our 407 to the caller", sbAddr, caller, "SIP/2.0 407"},
		{"our INVITE to the trunk", sbAddr, callee, "INVITE sip:5551234@"},
		{"the trunk's 200", callee, sbAddr, "SIP/2.0 200"},
		{"our 200 to the caller", sbAddr, caller, "SIP/2.0 200"},
		{"the caller's BYE", caller, sbAddr, "BYE "},
		{"our BYE to the trunk", sbAddr, callee, "BYE "},
	}
	var frames []hepFrame
	deadline := time.Now().Add(10 * time.Second)
	for {
		frames = readPcapUDP(t, pcap)
		missing := 0
		for _, w := range want {
			if !hasFrame(frames, w.src, w.dst, w.start) {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	_ = cons.Process.Signal(syscall.SIGTERM)
	for _, w := range want {
		if !hasFrame(frames, w.src, w.dst, w.start) {
			t.Errorf("the HEP consumer never got %s (%s -> %s, %q)", w.what, w.src, w.dst, w.start)
		}
	}
	if t.Failed() {
		for _, f := range frames {
			t.Logf("got %s -> %s %q", f.src, f.dst, firstLine(f.payload))
		}
	}
}

func hasFrame(frames []hepFrame, src, dst netip.AddrPort, start string) bool {
	for _, f := range frames {
		if f.src == src && f.dst == dst && strings.HasPrefix(f.payload, start) {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\r\n")
	return l
}

// readPcapUDP reads the IPv4/UDP frames of a little-endian pcap file with
// Ethernet link type, as sngrep writes them.
func readPcapUDP(t *testing.T, path string) []hepFrame {
	t.Helper()
	d, err := os.ReadFile(path)
	if err != nil || len(d) < 24 {
		return nil
	}
	if binary.LittleEndian.Uint32(d) != 0xa1b2c3d4 || binary.LittleEndian.Uint32(d[20:]) != 1 {
		t.Fatalf("%s: not a little-endian Ethernet pcap", path)
	}
	var out []hepFrame
	for o := 24; o+16 <= len(d); {
		incl := int(binary.LittleEndian.Uint32(d[o+8:]))
		o += 16
		if o+incl > len(d) {
			break // a record still being written
		}
		fr := d[o : o+incl]
		o += incl
		if len(fr) < 14+20+8 || binary.BigEndian.Uint16(fr[12:]) != 0x0800 {
			continue
		}
		ip := fr[14:]
		ihl := int(ip[0]&0x0f) * 4
		if ip[9] != 17 || len(ip) < ihl+8 {
			continue
		}
		src := netip.AddrFrom4([4]byte(ip[12:16]))
		dst := netip.AddrFrom4([4]byte(ip[16:20]))
		udp := ip[ihl:]
		out = append(out, hepFrame{
			src:     netip.AddrPortFrom(src, binary.BigEndian.Uint16(udp)),
			dst:     netip.AddrPortFrom(dst, binary.BigEndian.Uint16(udp[2:])),
			payload: string(udp[8:]),
		})
	}
	return out
}

// waitFor polls cond every 50 ms for up to within; it fails the test
// naming what never happened.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within %v", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
