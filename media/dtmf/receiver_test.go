package dtmf

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/switchboard/switchboard/media/rtp"
)

// rtpEvent is one telephone-event packet as a receiver sees it.
type rtpEvent struct {
	seq uint16
	ts  uint32
	ev  Event
}

func (p rtpEvent) payload() []byte {
	var b [PayloadSize]byte
	if _, err := p.ev.Marshal(b[:]); err != nil {
		panic(err)
	}
	return b[:]
}

// pushAll feeds pkts to r and returns every report, then Flush's.
func pushAll(t testing.TB, r *Receiver, pkts []rtpEvent, flush bool) []Report {
	t.Helper()
	var got []Report
	for _, p := range pkts {
		reps, err := r.Push(rtp.Header{Seq: p.seq, TS: p.ts}, p.payload())
		if err != nil {
			t.Fatalf("Push(%+v): %v", p, err)
		}
		got = append(got, reps...)
	}
	if flush {
		got = append(got, r.Flush()...)
	}
	return got
}

// sippPattern is the packet pattern of sipp's dtmf_2833_*.pcap files: the
// first packet has the marker and duration 0, the duration rises by 320 to
// 1920, and the end report (2240) is sent three times with one sequence
// number.
func sippPattern(code uint8, seq0 uint16, ts uint32) []rtpEvent {
	var pkts []rtpEvent
	for i := range 7 {
		pkts = append(pkts, rtpEvent{seq0 + uint16(i), ts, Event{Code: code, Volume: 10, Duration: uint16(320 * i)}})
	}
	for range 3 {
		pkts = append(pkts, rtpEvent{seq0 + 7, ts, Event{Code: code, End: true, Volume: 10, Duration: 2240}})
	}
	return pkts
}

func press(code uint8, ts, dur uint32) Report {
	k, _ := CodeToKey(code)
	return Report{Edge: Press, Code: code, Key: k, Timestamp: ts, Duration: dur, Volume: 10}
}

func release(code uint8, ts, dur uint32, inferred bool) Report {
	k, _ := CodeToKey(code)
	return Report{Edge: Release, Code: code, Key: k, Timestamp: ts, Duration: dur, Volume: 10, Inferred: inferred}
}

func ev(code uint8, end bool, dur uint16) Event {
	return Event{Code: code, End: end, Volume: 10, Duration: dur}
}

func TestReceiverScenarios(t *testing.T) {
	sipp := sippPattern(1, 100, 1000)
	renumber := func(pkts []rtpEvent) []rtpEvent {
		out := append([]rtpEvent(nil), pkts...)
		for i := range out {
			out[i].seq = 100 + uint16(i)
		}
		return out
	}
	tests := []struct {
		name  string
		pkts  []rtpEvent
		flush bool
		want  []Report
	}{
		{"sipp pattern: end repeated with one seq", sipp, false,
			[]Report{press(1, 1000, 0), release(1, 1000, 2240, false)}},
		{"RFC 4733 repeats with new seqs", renumber(sipp), false,
			[]Report{press(1, 1000, 0), release(1, 1000, 2240, false)}},
		{"start packets lost", sipp[3:], false,
			[]Report{press(1, 1000, 960), release(1, 1000, 2240, false)}},
		{"only one end copy arrives", sipp[9:], false,
			[]Report{press(1, 1000, 2240), release(1, 1000, 2240, false)}},
		{"end packets lost, next event ends it", append(append([]rtpEvent{}, sipp[:7]...), sippPattern(2, 110, 5000)...), false,
			[]Report{press(1, 1000, 0), release(1, 1000, 1920, true), press(2, 5000, 0), release(2, 5000, 2240, false)}},
		{"end packets lost, flushed", sipp[:7], true,
			[]Report{press(1, 1000, 0), release(1, 1000, 1920, true)}},
		{"flush with nothing in progress", sipp, true,
			[]Report{press(1, 1000, 0), release(1, 1000, 2240, false)}},
		{"update after the end is ignored", []rtpEvent{
			{1, 1000, ev(4, false, 400)}, {3, 1000, ev(4, true, 1200)}, {2, 1000, ev(4, false, 800)}, {4, 1000, ev(4, true, 1200)},
		}, false, []Report{press(4, 1000, 400), release(4, 1000, 1200, false)}},
		{"reordered updates keep the longest", []rtpEvent{
			{1, 1000, ev(4, false, 400)}, {3, 1000, ev(4, false, 1200)}, {2, 1000, ev(4, false, 800)},
		}, true, []Report{press(4, 1000, 400), release(4, 1000, 1200, true)}},
		{"late packet of the previous event is ignored", []rtpEvent{
			{1, 1000, ev(4, false, 400)}, {2, 1000, ev(4, true, 800)},
			{5, 9000, ev(7, false, 400)}, {3, 1000, ev(4, true, 800)}, {4, 1000, ev(4, false, 400)}, {6, 9000, ev(7, true, 800)},
		}, false, []Report{press(4, 1000, 400), release(4, 1000, 800, false), press(7, 9000, 400), release(7, 9000, 800, false)}},
		{"same key twice, new timestamp", []rtpEvent{
			{1, 1000, ev(5, false, 400)}, {2, 1000, ev(5, true, 800)}, {3, 1000, ev(5, true, 800)},
			{4, 3000, ev(5, false, 400)}, {5, 3000, ev(5, true, 800)}, {6, 3000, ev(5, true, 800)},
		}, false, []Report{press(5, 1000, 400), release(5, 1000, 800, false), press(5, 3000, 400), release(5, 3000, 800, false)}},
		{"same key, new timestamp, end lost", []rtpEvent{
			{1, 1000, ev(5, false, 400)}, {4, 3000, ev(5, false, 400)}, {5, 3000, ev(5, true, 800)},
		}, false, []Report{press(5, 1000, 400), release(5, 1000, 400, true), press(5, 3000, 400), release(5, 3000, 800, false)}},
		{"new code on the same timestamp", []rtpEvent{
			{1, 1000, ev(5, false, 400)}, {2, 1000, ev(6, false, 800)}, {3, 1000, ev(6, true, 1200)},
		}, false, []Report{press(5, 1000, 400), release(5, 1000, 400, true), press(6, 1000, 800), release(6, 1000, 1200, false)}},
		{"long event in two segments", []rtpEvent{
			{1, 1000, ev(0, false, 400)}, {2, 1000, ev(0, false, 65200)}, {3, 1000, ev(0, false, 0xFFFF)},
			{4, 1000, ev(0, false, 0xFFFF)}, {5, 1000, ev(0, false, 0xFFFF)},
			{6, 1000 + 0xFFFF, ev(0, false, 865)}, {7, 1000 + 0xFFFF, ev(0, true, 14465)}, {8, 1000 + 0xFFFF, ev(0, true, 14465)},
		}, false, []Report{press(0, 1000, 400), release(0, 1000, 80000, false)}},
		{"long event, segment end lost", []rtpEvent{
			{1, 1000, ev(0, false, 400)}, {2, 1000, ev(0, false, 65200)},
			{6, 1000 + 0xFFFF, ev(0, false, 865)}, {7, 1000 + 0xFFFF, ev(0, true, 14465)},
		}, false, []Report{press(0, 1000, 400), release(0, 1000, 80000, false)}},
		{"long event, late segment end repeat ignored", []rtpEvent{
			{1, 1000, ev(0, false, 65200)}, {2, 1000, ev(0, false, 0xFFFF)},
			{3, 1000 + 0xFFFF, ev(0, false, 865)}, {4, 1000, ev(0, false, 0xFFFF)}, {5, 1000 + 0xFFFF, ev(0, true, 1000)},
		}, false, []Report{press(0, 1000, 65200), release(0, 1000, 0xFFFF+1000, false)}},
		{"long event cut on the sender's update grid", []rtpEvent{
			{1, 1000, ev(3, false, 65200)}, {2, 1000 + 65200, ev(3, false, 400)}, {3, 1000 + 65200, ev(3, true, 800)},
		}, false, []Report{press(3, 1000, 65200), release(3, 1000, 66000, false)}},
		{"timestamp wraps", []rtpEvent{
			{1, 0xFFFFFF00, ev(8, false, 400)}, {2, 0xFFFFFF00, ev(8, true, 800)},
			{3, 0x00000300, ev(9, false, 400)}, {4, 0x00000300, ev(9, true, 800)},
		}, false, []Report{press(8, 0xFFFFFF00, 400), release(8, 0xFFFFFF00, 800, false), press(9, 0x300, 400), release(9, 0x300, 800, false)}},
		{"sequence and timestamp wrap with a segment", []rtpEvent{
			{0xFFFF, 0xFFFFFF00, ev(8, false, 0xFFFF)}, {0, 0xFEFF, ev(8, true, 10)},
		}, false, []Report{press(8, 0xFFFFFF00, 0xFFFF), release(8, 0xFFFFFF00, 0xFFFF+10, false)}},
		{"timestamp clock restarted", []rtpEvent{
			{1, 5_000_000, ev(1, false, 400)}, {2, 5_000_000, ev(1, true, 800)},
			{3, 1000, ev(2, false, 400)}, {4, 1000, ev(2, true, 800)},
		}, false, []Report{press(1, 5_000_000, 400), release(1, 5_000_000, 800, false), press(2, 1000, 400), release(2, 1000, 800, false)}},
		{"non-DTMF event code", []rtpEvent{
			{1, 1000, ev(36, true, 800)},
		}, false, []Report{{Edge: Press, Code: 36, Timestamp: 1000, Duration: 800, Volume: 10}, {Edge: Release, Code: 36, Timestamp: 1000, Duration: 800, Volume: 10}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pushAll(t, NewReceiver(), tt.pkts, tt.flush)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("reports:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestReceiverRejectsShortPayload(t *testing.T) {
	r := NewReceiver()
	if _, err := r.Push(rtp.Header{Seq: 1, TS: 1000}, []byte{1, 2, 3}); !errors.Is(err, ErrShortPayload) {
		t.Fatalf("err %v", err)
	}
	got := pushAll(t, r, sippPattern(3, 10, 500), false)
	if len(got) != 2 || got[1].Duration != 2240 {
		t.Fatalf("after an error: %+v", got)
	}
	r.Reset()
	if got := r.Flush(); len(got) != 0 {
		t.Fatalf("Flush after Reset: %+v", got)
	}
}

// impairments applied to a Sender's packet sequence.
var impairments = []struct {
	name string
	// apply returns the packets that arrive and whether the end report
	// survives.
	apply func([]rtpEvent) ([]rtpEvent, bool)
}{
	{"clean", func(p []rtpEvent) ([]rtpEvent, bool) { return p, true }},
	{"first lost", func(p []rtpEvent) ([]rtpEvent, bool) { return p[1:], true }},
	{"two end copies lost", func(p []rtpEvent) ([]rtpEvent, bool) { return p[:len(p)-2], true }},
	{"first end copy lost", func(p []rtpEvent) ([]rtpEvent, bool) {
		return append(append([]rtpEvent{}, p[:len(p)-3]...), p[len(p)-2:]...), true
	}},
	{"neighbours swapped", func(p []rtpEvent) ([]rtpEvent, bool) {
		q := append([]rtpEvent{}, p...)
		for i := 0; i+1 < len(q); i += 2 {
			q[i], q[i+1] = q[i+1], q[i]
		}
		return q, true
	}},
	{"everything twice", func(p []rtpEvent) ([]rtpEvent, bool) {
		var q []rtpEvent
		for _, x := range p {
			q = append(q, x, x)
		}
		return q, true
	}},
	{"every other lost", func(p []rtpEvent) ([]rtpEvent, bool) {
		var q []rtpEvent
		for i, x := range p {
			if i%2 == 1 || i == len(p)-1 {
				q = append(q, x)
			}
		}
		return q, true
	}},
	{"all end copies lost", func(p []rtpEvent) ([]rtpEvent, bool) {
		n := len(p) - finalCopies
		if n == 0 {
			return p[:1], true // keep one so the event is seen at all
		}
		return p[:n], false
	}},
}

func TestSenderReceiverRoundTrip(t *testing.T) {
	durations := []time.Duration{40 * time.Millisecond, 60 * time.Millisecond, 100 * time.Millisecond,
		250 * time.Millisecond, 500 * time.Millisecond, 3 * time.Second, 10 * time.Second, 20 * time.Second}
	for _, rate := range []int{8000, 48000} {
		s, err := NewSender(SenderConfig{ClockRate: rate})
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range impairments {
			for _, d := range durations {
				t.Run(fmt.Sprintf("%d/%s/%v", rate, imp.name, d), func(t *testing.T) {
					for _, key := range []byte("0123456789*#ABCD!") {
						code, _ := KeyToCode(key)
						sent, err := s.AppendPackets(nil, code, d)
						if err != nil {
							t.Fatal(err)
						}
						const ts0, seq0 = 0xFFFF0000, 0xFFF0 // both wrap during long events
						pkts := make([]rtpEvent, len(sent))
						for i, p := range sent {
							pkts[i] = rtpEvent{seq: seq0 + uint16(i), ts: ts0 + p.Timestamp, ev: p.Event}
						}
						arrived, endSurvives := imp.apply(pkts)
						got := pushAll(t, NewReceiver(), arrived, true)
						if len(got) != 2 || got[0].Edge != Press || got[1].Edge != Release {
							t.Fatalf("key %q: reports %+v", key, got)
						}
						rel := got[1]
						if rel.Key != key || rel.Code != code || rel.Timestamp != ts0 || got[0].Timestamp != ts0 {
							t.Fatalf("key %q: release %+v", key, rel)
						}
						total := uint32(durationUnits(d, rate))
						if endSurvives {
							if rel.Duration != total || rel.Inferred {
								t.Fatalf("key %q: release duration %d inferred %v, want %d", key, rel.Duration, rel.Inferred, total)
							}
							if rel.Time(rate) != d {
								t.Fatalf("key %q: Time %v, want %v", key, rel.Time(rate), d)
							}
						} else {
							// The last update is at most one interval short.
							short := total - rel.Duration
							if !rel.Inferred || short > uint32(durationUnits(DefaultInterval, rate)) {
								t.Fatalf("key %q: release %+v without end, total %d", key, rel, total)
							}
						}
					}
				})
			}
		}
	}
}

// FuzzReceiver feeds arbitrary packet sequences to a Receiver: 10 bytes per
// packet (seq, ts, payload). Whatever arrives, presses and releases must
// alternate, a release must match its press, and nothing may panic.
func FuzzReceiver(f *testing.F) {
	enc := func(pkts []rtpEvent) []byte {
		var b []byte
		for _, p := range pkts {
			b = append(b, byte(p.seq>>8), byte(p.seq), byte(p.ts>>24), byte(p.ts>>16), byte(p.ts>>8), byte(p.ts))
			b = append(b, p.payload()...)
		}
		return b
	}
	f.Add(enc(sippPattern(1, 100, 1000)))
	f.Add(enc(append(sippPattern(1, 100, 1000)[:5], sippPattern(2, 106, 3000)...)))
	f.Add(enc([]rtpEvent{{1, 1000, ev(0, false, 0xFFFF)}, {2, 1000 + 0xFFFF, ev(0, true, 10)}}))
	f.Add([]byte{0, 1, 0, 0, 0, 1, 5, 0x8a, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReceiver()
		var open *Report
		check := func(reps []Report) {
			for i := range reps {
				rep := reps[i]
				switch rep.Edge {
				case Press:
					if open != nil {
						t.Fatalf("press %+v while %+v is open", rep, *open)
					}
					open = &rep
				case Release:
					if open == nil || open.Code != rep.Code || open.Timestamp != rep.Timestamp {
						t.Fatalf("release %+v does not match press %+v", rep, open)
					}
					if rep.Duration < open.Duration && !rep.Inferred {
						t.Fatalf("release %+v shorter than its press %+v", rep, *open)
					}
					open = nil
				default:
					t.Fatalf("report with edge %d", rep.Edge)
				}
			}
		}
		for len(data) >= 6 {
			seq := uint16(data[0])<<8 | uint16(data[1])
			ts := uint32(data[2])<<24 | uint32(data[3])<<16 | uint32(data[4])<<8 | uint32(data[5])
			n := min(len(data), 10)
			reps, err := r.Push(rtp.Header{Seq: seq, TS: ts}, data[6:n])
			if (err != nil) != (n-6 < PayloadSize) {
				t.Fatalf("Push with %d payload bytes: err %v", n-6, err)
			}
			check(reps)
			data = data[n:]
		}
		check(r.Flush())
		if open != nil {
			t.Fatalf("press %+v never released", *open)
		}
	})
}
