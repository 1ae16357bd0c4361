package test

import (
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// hepChunks is a HEP v3 packet's chunks by type (vendor 0), decoded here
// independently of hep/encode.go (HEP3 spec rev 36: "HEP3", total length,
// then vendor, type, length, value).
func hepChunks(b []byte) (map[uint16][]byte, error) {
	if len(b) < 6 || string(b[:4]) != "HEP3" || int(binary.BigEndian.Uint16(b[4:6])) != len(b) {
		return nil, fmt.Errorf("not a HEP3 packet of its length: % x", b[:min(len(b), 8)])
	}
	out := map[uint16][]byte{}
	for p := b[6:]; len(p) > 0; {
		if len(p) < 6 {
			return nil, fmt.Errorf("truncated chunk header")
		}
		typ, n := binary.BigEndian.Uint16(p[2:4]), int(binary.BigEndian.Uint16(p[4:6]))
		if n < 6 || n > len(p) {
			return nil, fmt.Errorf("chunk %#x length %d of %d", typ, n, len(p))
		}
		out[typ] = p[6:n]
		p = p[n:]
	}
	return out, nil
}

// TestHEPExportRTCP (issue 14, item 4): with hep.collector set, the RTCP
// reports both phones send during a call reach the collector as HEP
// packets of payload type 5 (RTCP), each correlated with its leg's SIP
// Call-ID (the caller's or the callee's, as the CDR names them), from the
// phone's address to Switchboard's; each payload is a valid RTCP compound
// packet (pion/rtcp parses it), and each leg's include sender or
// receiver reports.
func TestHEPExportRTCP(t *testing.T) {
	t.Parallel()
	col, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer col.Close()
	var mu sync.Mutex
	var pkts []map[uint16][]byte
	go func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := col.ReadFrom(buf)
			if err != nil {
				return
			}
			c, err := hepChunks(append([]byte(nil), buf[:n]...))
			mu.Lock()
			if err != nil {
				t.Errorf("collector got a bad HEP packet: %v", err)
			} else {
				pkts = append(pkts, c)
			}
			mu.Unlock()
		}
	}()
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}, Extra: fmt.Sprintf("hep:\n  collector: %s\n", col.LocalAddr())})
	alice := startBaresip(t, BaresipOptions{User: "1000", Password: sb.Users["1000"], SB: sb, ToneHz: 440, Register: true})
	bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true})
	rec := toneCall(t, sb, alice, bob, fmt.Sprintf("sip:1001@127.0.0.1:%d", sb.SIPPort), 7*time.Second)

	mu.Lock()
	defer mu.Unlock()
	perCall := map[string]int{}
	sip := 0
	for _, c := range pkts {
		switch c[0x000b][0] {
		case 1:
			sip++
			continue
		case 5:
		default:
			t.Fatalf("payload type %d", c[0x000b][0])
		}
		ps, err := rtcp.Unmarshal(c[0x000f])
		if err != nil {
			t.Fatalf("RTCP payload does not parse: %v (% x)", err, c[0x000f])
		}
		report := false
		for _, p := range ps {
			switch p.(type) {
			case *rtcp.SenderReport, *rtcp.ReceiverReport:
				report = true
			}
		}
		if dst := binary.BigEndian.Uint16(c[0x0008]); dst < uint16(sbMediaLo(t, sb)) {
			t.Errorf("RTCP to port %d, not one of Switchboard's media ports", dst)
		}
		if report { // baresip also sends a lone BYE (and SDES) at the end
			perCall[string(c[0x0011])]++
		}
	}
	if sip == 0 {
		t.Error("no SIP captured beside the RTCP")
	}
	if perCall[rec.ACallID] == 0 || perCall[rec.BCallID] == 0 {
		t.Fatalf("RTCP reports per Call-ID %v, want some for the caller's %q and the callee's %q", perCall, rec.ACallID, rec.BCallID)
	}
	t.Logf("RTCP reports per Call-ID: %v; SIP messages: %d", perCall, sip)
}

// sbMediaLo is the first port of Switchboard's media range.
func sbMediaLo(t *testing.T, sb *SB) int {
	lo, _ := portRange(t, sb.Dir+"/switchboard.yaml", "ports:")
	return int(lo)
}
