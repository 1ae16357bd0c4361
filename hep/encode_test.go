package hep

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"
)

// chunks decodes a HEP v3 packet into its chunks by type.
func chunks(t *testing.T, b []byte) map[uint16][]byte {
	t.Helper()
	if string(b[:4]) != "HEP3" || int(binary.BigEndian.Uint16(b[4:])) != len(b) {
		t.Fatalf("bad header % x (len %d)", b[:6], len(b))
	}
	out := map[uint16][]byte{}
	for o := 6; o < len(b); {
		vendor, typ, l := binary.BigEndian.Uint16(b[o:]), binary.BigEndian.Uint16(b[o+2:]), int(binary.BigEndian.Uint16(b[o+4:]))
		if vendor != 0 || l < 6 || o+l > len(b) {
			t.Fatalf("bad chunk at %d: vendor %d type %d len %d", o, vendor, typ, l)
		}
		out[typ] = b[o+6 : o+l]
		o += l
	}
	return out
}

func TestEncodeIPv4(t *testing.T) {
	at := time.Unix(1700000000, 123456000)
	p := &Packet{Src: netip.MustParseAddrPort("127.0.0.3:5062"), Dst: netip.MustParseAddrPort("127.0.0.1:5060"),
		Time: at, Payload: []byte("OPTIONS sip:a SIP/2.0\r\n\r\n"), Correlation: "abc@h"}
	c := chunks(t, Encode(nil, p, 77, "secret"))
	for typ, want := range map[uint16][]byte{
		chunkIPFamily: {2}, chunkIPProto: {17}, chunkIPv4Src: {127, 0, 0, 3}, chunkIPv4Dst: {127, 0, 0, 1},
		chunkSrcPort: {0x13, 0xc6}, chunkDstPort: {0x13, 0xc4}, chunkProtoType: {1},
		chunkAgentID: {0, 0, 0, 77}, chunkAuthKey: []byte("secret"), chunkCorrelation: []byte("abc@h"),
		chunkPayload: p.Payload,
	} {
		if string(c[typ]) != string(want) {
			t.Errorf("chunk %#x = % x, want % x", typ, c[typ], want)
		}
	}
	if s, us := binary.BigEndian.Uint32(c[chunkTimeSec]), binary.BigEndian.Uint32(c[chunkTimeUsec]); s != 1700000000 || us != 123456 {
		t.Errorf("time %d.%06d", s, us)
	}
}

func TestEncodeIPv6TCP(t *testing.T) {
	p := &Packet{Src: netip.MustParseAddrPort("[::1]:5060"), Dst: netip.MustParseAddrPort("[2001:db8::1]:5061"), TCP: true,
		Time: time.Now(), Payload: []byte("SIP/2.0 200 OK\r\n\r\n")}
	c := chunks(t, Encode(nil, p, 1, ""))
	if c[chunkIPFamily][0] != 10 || c[chunkIPProto][0] != 6 || len(c[chunkIPv6Src]) != 16 || netip.AddrFrom16([16]byte(c[chunkIPv6Dst])).String() != "2001:db8::1" {
		t.Errorf("family %v proto %v src % x dst % x", c[chunkIPFamily], c[chunkIPProto], c[chunkIPv6Src], c[chunkIPv6Dst])
	}
	if _, ok := c[chunkAuthKey]; ok {
		t.Error("auth key chunk without a key")
	}
}

func TestEncodeOversizedDropped(t *testing.T) {
	p := &Packet{Src: netip.MustParseAddrPort("127.0.0.1:1"), Dst: netip.MustParseAddrPort("127.0.0.1:2"), Payload: make([]byte, 70000)}
	if b := Encode([]byte("x"), p, 1, ""); string(b) != "x" {
		t.Errorf("oversized packet encoded (%d bytes)", len(b))
	}
}

// TestExporterSends checks packets reach a UDP collector in order.
func TestExporterSends(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	e, err := NewExporter(pc.LocalAddr().String(), 5, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		e.Capture(&Packet{Src: netip.MustParseAddrPort("127.0.0.1:1"), Dst: netip.MustParseAddrPort("127.0.0.1:2"), Time: time.Now(), Payload: []byte{byte('a' + i)}})
	}
	buf := make([]byte, 2048)
	for i := range 3 {
		_ = pc.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := chunks(t, buf[:n])[chunkPayload]; string(got) != string(rune('a'+i)) {
			t.Errorf("packet %d payload %q", i, got)
		}
	}
	_ = e.Close()
	e.Capture(&Packet{}) // after Close: ignored, no panic
	if e.Sent() != 3 || e.Dropped() != 0 {
		t.Errorf("sent %d dropped %d", e.Sent(), e.Dropped())
	}
}

// BenchmarkCapture is the cost added to each SIP message with HEP on.
func BenchmarkCapture(b *testing.B) {
	pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	defer pc.Close()
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	e, _ := NewExporter(pc.LocalAddr().String(), 1, "", nil)
	defer e.Close()
	msg := make([]byte, 900)
	p := &Packet{Src: netip.MustParseAddrPort("127.0.0.1:5060"), Dst: netip.MustParseAddrPort("127.0.0.2:5060"), Time: time.Now(), Payload: msg}
	b.ReportAllocs()
	for b.Loop() {
		e.Capture(p)
	}
}
