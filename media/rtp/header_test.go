package rtp

import (
	"testing"

	pionrtp "github.com/pion/rtp"
)

func TestParseRoundTrip(t *testing.T) {
	h := Header{Marker: true, PT: 8, Seq: 4711, TS: 123456, SSRC: 0xdeadbeef}
	buf := make([]byte, FixedHeaderSize+160)
	h.PutFixed(buf)
	got, ok := Parse(buf)
	if !ok {
		t.Fatal("Parse refused a packet PutFixed built")
	}
	h.Size = FixedHeaderSize
	if got != h {
		t.Fatalf("got %+v, want %+v", got, h)
	}
	if n := len(got.Payload(buf)); n != 160 {
		t.Fatalf("payload %d bytes, want 160", n)
	}
}

func TestParseRejects(t *testing.T) {
	for name, pkt := range map[string][]byte{
		"short":      make([]byte, 11),
		"version 1":  append([]byte{0x40, 0}, make([]byte, 10)...),
		"rtcp pt":    append([]byte{0x80, 200 & 0x7f}, make([]byte, 10)...),
		"csrc past":  append([]byte{0x81, 0}, make([]byte, 10)...),
		"zero pad":   append([]byte{0xa0, 0}, make([]byte, 11)...),
		"ext header": append([]byte{0x90, 0}, make([]byte, 10)...),
	} {
		if _, ok := Parse(pkt); ok {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParsePadding(t *testing.T) {
	p := pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 0, Padding: true, PaddingSize: 4}, Payload: make([]byte, 20)}
	buf, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	h, ok := Parse(buf)
	if !ok || h.Pad != 4 || len(h.Payload(buf)) != 20 {
		t.Fatalf("ok=%v pad=%d payload=%d", ok, h.Pad, len(h.Payload(buf)))
	}
}

// FuzzParse checks that Parse and pion's parser agree on every packet Parse
// accepts.
func FuzzParse(f *testing.F) {
	f.Add([]byte{0x80, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xff})
	f.Add([]byte{0x90, 0x88, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		h, ok := Parse(pkt)
		if !ok {
			return
		}
		var p pionrtp.Header
		n, err := p.Unmarshal(pkt)
		if err != nil && pkt[0]&0x10 != 0 {
			// Parse keeps an extension opaque (RFC 3550 §5.3.1); pion also
			// parses RFC 8285 elements inside one and refuses malformed
			// ones. The framing must still agree: ask pion again with a
			// profile it keeps opaque.
			opaque := append([]byte(nil), pkt...)
			at := FixedHeaderSize + 4*int(pkt[0]&0x0f)
			opaque[at], opaque[at+1] = 0, 0
			p = pionrtp.Header{}
			n, err = p.Unmarshal(opaque)
		}
		if err != nil {
			t.Fatalf("Parse accepted what pion refuses: %v", err)
		}
		if n != h.Size || p.SequenceNumber != h.Seq || p.Timestamp != h.TS || p.SSRC != h.SSRC || p.PayloadType != h.PT || p.Marker != h.Marker {
			t.Fatalf("disagree: ours %+v, pion %+v (size %d)", h, p, n)
		}
		_ = h.Payload(pkt)
	})
}

func BenchmarkParse(b *testing.B) {
	buf := make([]byte, FixedHeaderSize+160)
	(&Header{PT: 0, Seq: 1, TS: 2, SSRC: 3}).PutFixed(buf)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Parse(buf); !ok {
			b.Fatal("refused")
		}
	}
}
