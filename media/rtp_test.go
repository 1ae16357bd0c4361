package media

import (
	"encoding/binary"
	"testing"
	"time"

	pionrtp "github.com/pion/rtp"

	"github.com/switchboard/switchboard/media/rtp"
)

// rtpPacket builds an RTP packet with a 4-byte payload.
func rtpPacket(pt uint8, seq uint16, ts, ssrc uint32, marker bool) []byte {
	p := make([]byte, 16)
	p[0] = 0x80
	p[1] = pt & 0x7f
	if marker {
		p[1] |= 0x80
	}
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], ts)
	binary.BigEndian.PutUint32(p[8:], ssrc)
	copy(p[12:], "abcd")
	return p
}

func TestParseRTP(t *testing.T) {
	base := rtpPacket(0, 1, 2, 3, false)
	mod := func(f func(p []byte) []byte) []byte { return f(append([]byte(nil), base...)) }
	tests := []struct {
		name string
		pkt  []byte
		ok   bool
		size int
	}{
		{"minimal", base, true, 12},
		{"header only", base[:12], true, 12},
		{"too short", base[:11], false, 0},
		{"version 1", mod(func(p []byte) []byte { p[0] = 0x40; return p }), false, 0},
		{"version 3", mod(func(p []byte) []byte { p[0] = 0xc0; return p }), false, 0},
		{"RTCP SR type", mod(func(p []byte) []byte { p[1] = 200 & 0x7f; return p }), false, 0},
		{"RTCP RR type with marker", mod(func(p []byte) []byte { p[1] = 201; return p }), false, 0},
		{"PT 77 allowed", mod(func(p []byte) []byte { p[1] = 77; return p }), true, 12},
		{"one CSRC", mod(func(p []byte) []byte { p[0] |= 1; return p }), true, 16},
		{"CSRC past end", mod(func(p []byte) []byte { p[0] |= 2; return p }), false, 0},
		{"extension", mod(func(p []byte) []byte {
			p[0] |= 0x10
			return append(p[:12], 0xbe, 0xde, 0, 1, 1, 2, 3, 4, 9)
		}), true, 20},
		{"extension truncated", mod(func(p []byte) []byte {
			p[0] |= 0x10
			return append(p[:12], 0xbe, 0xde, 0, 2, 1, 2, 3, 4)
		}), false, 0},
		{"extension header truncated", mod(func(p []byte) []byte { p[0] |= 0x10; return p[:14] }), false, 0},
		{"padding", mod(func(p []byte) []byte { p[0] |= 0x20; p[15] = 2; return p }), true, 12},
		{"padding whole payload", mod(func(p []byte) []byte { p[0] |= 0x20; p[15] = 4; return p }), true, 12},
		{"padding zero", mod(func(p []byte) []byte { p[0] |= 0x20; p[15] = 0; return p }), false, 0},
		{"padding into header", mod(func(p []byte) []byte { p[0] |= 0x20; p[15] = 5; return p }), false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, ok := rtp.Parse(tt.pkt)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if h.Size != tt.size {
				t.Errorf("size = %d, want %d", h.Size, tt.size)
			}
			var ph pionrtp.Header
			if _, err := ph.Unmarshal(tt.pkt); err != nil {
				t.Fatalf("pion rejects a packet we accept: %v", err)
			}
			if h.Seq != ph.SequenceNumber || h.TS != ph.Timestamp || h.SSRC != ph.SSRC || h.PT != ph.PayloadType || h.Marker != ph.Marker {
				t.Errorf("parsed %+v, pion %+v", h, ph)
			}
		})
	}
}

// FuzzParseRTP compares the hand-written parser with pion/rtp: whatever we
// accept, pion must decode to the same fields and header size (unless
// pion objects to the contents of a header extension, which we do not
// read).
func FuzzParseRTP(f *testing.F) {
	f.Add(rtpPacket(0, 1, 2, 3, true))
	f.Add([]byte{0x91, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0})
	f.Add([]byte{0xa0, 8, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 2})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		h, ok := rtp.Parse(pkt)
		if !ok {
			return
		}
		var ph pionrtp.Header
		n, err := ph.Unmarshal(pkt)
		if err != nil {
			if pkt[0]&0x10 != 0 {
				// pion also decodes the RFC 8285 elements inside the
				// extension block; the relay forwards the block as is.
				return
			}
			t.Fatalf("pion rejects %x: %v", pkt, err)
		}
		if n != h.Size || h.Seq != ph.SequenceNumber || h.TS != ph.Timestamp || h.SSRC != ph.SSRC ||
			h.PT != ph.PayloadType || h.Marker != ph.Marker || ph.Version != 2 {
			t.Fatalf("%x: parsed %+v, pion %+v (size %d)", pkt, h, ph, n)
		}
	})
}

// TestOutStreamRewrite feeds sequences of packets through one outgoing
// stream and checks the output relative to its first packet.
func TestOutStreamRewrite(t *testing.T) {
	type in struct {
		ssrc  uint32
		seq   uint16
		ts    uint32
		atMS  int64
		clock int
	}
	type out struct {
		dSeq   uint16 // out seq - first out seq
		dTS    uint32 // out ts - first out ts
		marker bool
	}
	tests := []struct {
		name    string
		in      []in
		want    []out
		changes uint64
	}{
		{
			name: "continuous stream keeps deltas",
			in:   []in{{1, 100, 1000, 0, 8000}, {1, 101, 1160, 20, 8000}, {1, 102, 1320, 40, 8000}},
			want: []out{{0, 0, true}, {1, 160, false}, {2, 320, false}},
		},
		{
			name:    "new SSRC continues seq+1 and ts by wall time",
			in:      []in{{1, 100, 1000, 0, 8000}, {1, 101, 1160, 20, 8000}, {2, 5000, 999999, 520, 8000}, {2, 5001, 1000159, 540, 8000}},
			want:    []out{{0, 0, true}, {1, 160, false}, {2, 160 + 4000, true}, {3, 160 + 4000 + 160, false}},
			changes: 1,
		},
		{
			name:    "clock of the outgoing PT scales the gap",
			in:      []in{{1, 7, 0, 0, 48000}, {9, 3, 77, 100, 48000}},
			want:    []out{{0, 0, true}, {1, 4800, true}},
			changes: 1,
		},
		{
			name:    "seq jump on same SSRC is a source change",
			in:      []in{{1, 100, 1000, 0, 8000}, {1, 9000, 1160, 20, 8000}},
			want:    []out{{0, 0, true}, {1, 160, true}},
			changes: 1,
		},
		{
			name:    "ts far ahead of wall clock is a source change",
			in:      []in{{1, 100, 1000, 0, 8000}, {1, 101, 1000 + 3*8000, 20, 8000}},
			want:    []out{{0, 0, true}, {1, 160, true}},
			changes: 1,
		},
		{
			name:    "ts going back more than a second is a source change",
			in:      []in{{1, 100, 100000, 0, 8000}, {1, 101, 100000 - 9000, 20, 8000}},
			want:    []out{{0, 0, true}, {1, 160, true}},
			changes: 1,
		},
		{
			name: "silence suppression gap follows the wall clock, no change",
			in:   []in{{1, 100, 1000, 0, 8000}, {1, 101, 1000 + 5*8000, 5000, 8000}},
			want: []out{{0, 0, true}, {1, 5 * 8000, false}},
		},
		{
			name: "burst after a stall is no change",
			in:   []in{{1, 100, 1000, 0, 8000}, {1, 101, 1160, 3000, 8000}, {1, 102, 1320, 3000, 8000}},
			want: []out{{0, 0, true}, {1, 160, false}, {2, 320, false}},
		},
		{
			name: "reordered packet keeps its place",
			in:   []in{{1, 100, 1000, 0, 8000}, {1, 102, 1320, 40, 8000}, {1, 101, 1160, 41, 8000}, {1, 103, 1480, 60, 8000}},
			want: []out{{0, 0, true}, {2, 320, false}, {1, 160, false}, {3, 480, false}},
		},
		{
			name: "sequence wrap is continuous",
			in:   []in{{1, 65535, 1000, 0, 8000}, {1, 0, 1160, 20, 8000}, {1, 1, 1320, 40, 8000}},
			want: []out{{0, 0, true}, {1, 160, false}, {2, 320, false}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newOutStream()
			var seq0 uint16
			var ts0 uint32
			var changes uint64
			for i, p := range tt.in {
				pkt := rtpPacket(0, p.seq, p.ts, p.ssrc, false)
				h, _ := rtp.Parse(pkt)
				if s.rewrite(pkt, &h, 96, p.clock, p.atMS*int64(time.Millisecond)) {
					changes++
				}
				o, ok := rtp.Parse(pkt)
				if !ok {
					t.Fatalf("packet %d: output is not RTP", i)
				}
				if o.SSRC != s.ssrc || o.PT != 96 || string(pkt[12:]) != "abcd" {
					t.Fatalf("packet %d: ssrc %x pt %d payload %q", i, o.SSRC, o.PT, pkt[12:])
				}
				if i == 0 {
					seq0, ts0 = o.Seq, o.TS
				}
				got := out{o.Seq - seq0, o.TS - ts0, o.Marker}
				if got != tt.want[i] {
					t.Errorf("packet %d: got %+v, want %+v", i, got, tt.want[i])
				}
			}
			if changes != tt.changes {
				t.Errorf("changes = %d, want %d", changes, tt.changes)
			}
		})
	}
}

func TestOutStreamsDiffer(t *testing.T) {
	seen := map[uint32]bool{}
	for range 50 {
		seen[newOutStream().ssrc] = true
	}
	if len(seen) < 45 {
		t.Errorf("only %d distinct SSRCs in 50 streams", len(seen))
	}
}

func BenchmarkParseRTP(b *testing.B) {
	pkt := append(rtpPacket(0, 1, 2, 3, false)[:12], make([]byte, 160)...)
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := rtp.Parse(pkt); !ok {
				b.Fatal("bad")
			}
		}
	})
	b.Run("pion-header", func(b *testing.B) {
		b.ReportAllocs()
		var h pionrtp.Header
		for b.Loop() {
			if _, err := h.Unmarshal(pkt); err != nil {
				b.Fatal(err)
			}
		}
	})
}
