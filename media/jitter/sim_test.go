package jitter

import (
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/switchboard/switchboard/media/rtp"
)

// Helpers that drive a Buffer through a simulated session on a fixed clock.

const (
	tick     = 20 * time.Millisecond
	frameLen = 160 // samples per 20 ms frame at 8 kHz
)

var epoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// arrival is one packet and the moment it reaches the buffer, relative to
// epoch.
type arrival struct {
	at time.Duration
	h  rtp.Header
}

// popRec is what one Pop produced, with the stats right after it.
type popRec struct {
	at     time.Duration
	kind   Kind
	hdr    rtp.Header
	delay  time.Duration
	target time.Duration
}

// payloadFor encodes the header into a payload so that a played frame can
// be checked against the packet it came from.
func payloadFor(dst []byte, h rtp.Header) []byte {
	n := 8 + int(h.Seq%7)
	dst = dst[:0]
	dst = binary.BigEndian.AppendUint16(dst, h.Seq)
	dst = binary.BigEndian.AppendUint32(dst, h.SSRC)
	for len(dst) < n {
		dst = append(dst, byte(h.TS)^0xA5)
	}
	return dst
}

// stream returns n packets of one source sent every 20 ms from send time
// 0, with arrival = send time + delay(i).
func stream(n int, ssrc uint32, seq uint16, ts uint32, delay func(i int) time.Duration) []arrival {
	out := make([]arrival, 0, n)
	for i := range n {
		out = append(out, arrival{
			at: time.Duration(i)*tick + delay(i),
			h: rtp.Header{
				Seq:  seq + uint16(i),
				TS:   ts + uint32(i*frameLen),
				SSRC: ssrc,
				PT:   0,
			},
		})
	}
	return out
}

func constDelay(d time.Duration) func(int) time.Duration {
	return func(int) time.Duration { return d }
}

// run pushes the arrivals in time order and pops every 20 ms (at phase
// past each tick) for pops ticks, checking every played payload.
func run(t testing.TB, b *Buffer, pkts []arrival, pops int, phase time.Duration) []popRec {
	t.Helper()
	slices.SortStableFunc(pkts, func(x, y arrival) int {
		switch {
		case x.at < y.at:
			return -1
		case x.at > y.at:
			return 1
		}
		return 0
	})
	recs := make([]popRec, 0, pops)
	var scratch []byte
	i := 0
	for k := range pops {
		now := time.Duration(k)*tick + phase
		for i < len(pkts) && pkts[i].at <= now {
			scratch = payloadFor(scratch, pkts[i].h)
			b.Push(pkts[i].h, scratch, epoch.Add(pkts[i].at))
			i++
		}
		r := b.Pop(epoch.Add(now))
		if r.Kind == Frame {
			want := payloadFor(nil, r.Header)
			if string(r.Payload) != string(want) {
				t.Fatalf("tick %d: payload of seq %d is %x, want %x", k, r.Header.Seq, r.Payload, want)
			}
		}
		st := b.Stats()
		recs = append(recs, popRec{at: now, kind: r.Kind, hdr: r.Header, delay: st.Delay, target: st.TargetDelay})
	}
	if i < len(pkts) {
		t.Fatalf("run ended with %d packets not pushed", len(pkts)-i)
	}
	return recs
}

// summary counts results between the first and the last frame played.
type summary struct {
	frames, missing, expand, empty int
	seqs                           []uint16
	ssrcs                          []uint32
}

func summarize(recs []popRec) summary {
	first, last := -1, -1
	for i, r := range recs {
		if r.kind == Frame {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	var s summary
	if first < 0 {
		return s
	}
	for _, r := range recs[first : last+1] {
		switch r.kind {
		case Frame:
			s.frames++
			s.seqs = append(s.seqs, r.hdr.Seq)
			s.ssrcs = append(s.ssrcs, r.hdr.SSRC)
		case Missing:
			s.missing++
		case Expand:
			s.expand++
		case Empty:
			s.empty++
		}
	}
	return s
}

// checkInOrder fails unless the played sequence numbers strictly increase
// (modulo 2^16) within each run of one SSRC.
func checkInOrder(t *testing.T, s summary) {
	t.Helper()
	for i := 1; i < len(s.seqs); i++ {
		if s.ssrcs[i] != s.ssrcs[i-1] {
			continue
		}
		if d := int16(s.seqs[i] - s.seqs[i-1]); d <= 0 {
			t.Fatalf("frame %d: seq %d played after %d", i, s.seqs[i], s.seqs[i-1])
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
