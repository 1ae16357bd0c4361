package jitter

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/switchboard/switchboard/media/rtp"
)

// FuzzPush drives a buffer with arbitrary packets (sequence numbers,
// timestamps, SSRCs, payload sizes, arrival times going back and forth)
// interleaved with Pops, and checks that it never panics, never holds more
// than it may, and keeps its ring consistent.
//
// Each 8-byte record of the input is one operation:
//
//	[0] op: low 2 bits 3 = Pop, else Push; bit 2 sets the marker
//	[1:3] sequence number delta (int16) from the previous packet
//	[3:5] timestamp delta in frames/8 (int16), so jumps and off-grid values occur
//	[5] SSRC choice (4 sources), [6] payload length, [7] time step in ms (int8)
func FuzzPush(f *testing.F) {
	steady := make([]byte, 0, 8*64)
	for i := range 64 {
		op := byte(0)
		if i%2 == 1 {
			op = 3
		}
		steady = append(steady, op, 1, 0, 8, 0, 0, 160, 10)
	}
	f.Add(steady)
	f.Add([]byte{0, 0xff, 0xff, 0, 0x80, 1, 255, 0x80, 3, 0, 0, 0, 0, 0, 0, 100})
	f.Add([]byte{0, 1, 0, 8, 0, 2, 20, 20, 0, 0x30, 0x75, 0xff, 0x7f, 2, 0, 0, 3, 0, 0, 0, 0, 0, 0, 127})
	wrap := []byte{}
	for range 40 {
		wrap = append(wrap, 0, 0x00, 0x20, 0x00, 0x40, 0, 50, 20, 3, 0, 0, 0, 0, 0, 0, 20)
	}
	f.Add(wrap)

	f.Fuzz(func(t *testing.T, data []byte) {
		const maxPayload = 200
		cfg := Config{MaxPackets: 16, MaxPayload: maxPayload, MaxDelay: 200 * time.Millisecond}
		b := New(cfg)
		var (
			seq     uint16 = 100
			ts      uint32 = 1 << 31
			now            = epoch
			payload        = make([]byte, 255)
			ssrcs          = [4]uint32{1, 2, 0xdeadbeef, 0}
		)
		for len(data) >= 8 {
			rec := data[:8]
			data = data[8:]
			now = now.Add(time.Duration(int8(rec[7])) * time.Millisecond)
			if rec[0]&3 == 3 {
				r := b.Pop(now)
				if r.Kind > Expand {
					t.Fatalf("kind %d", r.Kind)
				}
				if r.Kind == Frame && len(r.Payload) > maxPayload {
					t.Fatalf("payload of %d bytes", len(r.Payload))
				}
				if r.Kind != Frame && (r.Payload != nil || r.Accelerate) {
					t.Fatalf("%v result carries a frame", r.Kind)
				}
			} else {
				seq += uint16(int16(binary.LittleEndian.Uint16(rec[1:3])))
				ts += uint32(int32(int16(binary.LittleEndian.Uint16(rec[3:5]))) * frameLen / 8)
				h := rtp.Header{Seq: seq, TS: ts, SSRC: ssrcs[rec[5]%4], Marker: rec[0]&4 != 0}
				v := b.Push(h, payload[:rec[6]], now)
				if (int(rec[6]) > maxPayload) != (v == Rejected) {
					t.Fatalf("payload of %d bytes: %v", rec[6], v)
				}
			}
			checkInvariants(t, b, cfg)
		}
		st := b.Stats()
		if st.Frames+st.Concealed+st.Expanded+st.Empty == 0 && st.Received == 0 {
			return
		}
		if st.ExpandRate < 0 || st.ExpandRate > 1 {
			t.Fatalf("expand rate %v", st.ExpandRate)
		}
	})
}

// checkInvariants verifies the ring: the count matches the used slots,
// every used slot sits at its sequence number's index within the window
// [nextSeq, nextSeq+len), and memory stays within the configured bounds.
func checkInvariants(t *testing.T, b *Buffer, cfg Config) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.count > cfg.MaxPackets || b.count < 0 {
		t.Fatalf("count %d", b.count)
	}
	used := 0
	n := int64(len(b.slots))
	for i := range b.slots {
		s := &b.slots[i]
		if cap(s.buf) > max(slotPrealloc, cfg.MaxPayload) {
			t.Fatalf("slot buffer grew to %d", cap(s.buf))
		}
		if !s.used {
			continue
		}
		used++
		if s.seq&b.mask != int64(i) || s.seq < b.nextSeq || s.seq >= b.nextSeq+n {
			t.Fatalf("slot %d holds seq %d, window [%d,%d)", i, s.seq, b.nextSeq, b.nextSeq+n)
		}
		if b.primed && s.ts < b.playTS-b.frame*int64(len(b.slots)) {
			t.Fatalf("slot %d holds ts %d long before playout %d", i, s.ts, b.playTS)
		}
	}
	if used != b.count {
		t.Fatalf("%d slots used, count %d", used, b.count)
	}
	if len(b.slots) != 16 || cap(b.cand.buf) > max(slotPrealloc, cfg.MaxPayload) {
		t.Fatalf("ring %d slots, candidate buffer %d", len(b.slots), cap(b.cand.buf))
	}
	if b.est.winLen < 0 || b.est.winLen > winCap || b.est.nBlocks > skewBlocks {
		t.Fatalf("estimator window %d, blocks %d", b.est.winLen, b.est.nBlocks)
	}
}
