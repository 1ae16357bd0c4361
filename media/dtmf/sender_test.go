package dtmf

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestSenderExactPackets(t *testing.T) {
	upd := func(at uint32, m bool, ts uint32, d uint16) Packet {
		return Packet{SendAt: at, Marker: m, Timestamp: ts, Event: Event{Code: 5, Volume: 10, Duration: d}}
	}
	end := func(at uint32, m bool, ts uint32, d uint16) Packet {
		p := upd(at, m, ts, d)
		p.Event.End = true
		return p
	}
	tests := []struct {
		name     string
		cfg      SenderConfig
		duration time.Duration
		want     []Packet
	}{
		{"8k 50ms 100ms", SenderConfig{ClockRate: 8000}, 100 * time.Millisecond, []Packet{
			upd(400, true, 0, 400), end(800, false, 0, 800), end(1200, false, 0, 800), end(1600, false, 0, 800),
		}},
		{"8k 50ms 40ms: one report, marker and end together", SenderConfig{ClockRate: 8000}, 40 * time.Millisecond, []Packet{
			end(320, true, 0, 320), end(720, false, 0, 320), end(1120, false, 0, 320),
		}},
		{"8k 50ms 130ms: end off the grid", SenderConfig{ClockRate: 8000}, 130 * time.Millisecond, []Packet{
			upd(400, true, 0, 400), upd(800, false, 0, 800), end(1040, false, 0, 1040), end(1440, false, 0, 1040), end(1840, false, 0, 1040),
		}},
		{"48k 20ms 60ms", SenderConfig{ClockRate: 48000, Interval: 20 * time.Millisecond}, 60 * time.Millisecond, []Packet{
			upd(960, true, 0, 960), upd(1920, false, 0, 1920), end(2880, false, 0, 2880), end(3840, false, 0, 2880), end(4800, false, 0, 2880),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSender(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.AppendPackets(nil, 5, tt.duration)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("packets:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// checkSenderPattern verifies the RFC 4733 §2.5.1 rules on the packets of
// one event of total units at the given interval.
func checkSenderPattern(t *testing.T, pkts []Packet, code uint8, total, interval uint32) {
	t.Helper()
	if len(pkts) < finalCopies {
		t.Fatalf("%d packets", len(pkts))
	}
	for i, p := range pkts {
		if p.Marker != (i == 0) {
			t.Fatalf("packet %d marker %v", i, p.Marker)
		}
		if p.Event.Code != code || p.Event.Volume != DefaultVolume {
			t.Fatalf("packet %d event %+v", i, p.Event)
		}
		if i > 0 && p.SendAt <= pkts[i-1].SendAt {
			t.Fatalf("packet %d sent at %d after %d", i, p.SendAt, pkts[i-1].SendAt)
		}
		if p.Timestamp%MaxDuration != 0 {
			t.Fatalf("packet %d timestamp %d is not a segment start", i, p.Timestamp)
		}
		if i < len(pkts)-finalCopies && p.Event.End {
			t.Fatalf("packet %d has the E bit before the final reports", i)
		}
		if !p.Event.End {
			// An update reports the time elapsed since its segment began;
			// a segment end reports the maximum.
			if p.Event.Duration != MaxDuration && uint32(p.Event.Duration) != p.SendAt-p.Timestamp {
				t.Fatalf("packet %d: duration %d at %d in segment %d", i, p.Event.Duration, p.SendAt, p.Timestamp)
			}
			if p.Event.Duration == MaxDuration && p.SendAt-p.Timestamp != MaxDuration && pkts[i-1].Event != p.Event {
				t.Fatalf("packet %d: segment end at %d in segment %d", i, p.SendAt, p.Timestamp)
			}
		}
	}
	// Three final reports, identical, one interval apart, with the whole
	// remaining duration (RFC 4733 §2.5.1.4).
	last := pkts[len(pkts)-finalCopies:]
	for i, p := range last {
		if !p.Event.End || p.Event != last[0].Event || p.Timestamp != last[0].Timestamp {
			t.Fatalf("final report %d: %+v, first %+v", i, p, last[0])
		}
		if i > 0 && p.SendAt-last[i-1].SendAt != interval {
			t.Fatalf("final report %d sent %d after the previous", i, p.SendAt-last[i-1].SendAt)
		}
	}
	if last[0].SendAt != total || last[0].Timestamp+uint32(last[0].Event.Duration) != total {
		t.Fatalf("end at %d, timestamp %d duration %d; want total %d", last[0].SendAt, last[0].Timestamp, last[0].Event.Duration, total)
	}
	// Every segment but the last ends with three MaxDuration reports
	// (RFC 4733 §2.5.1.3).
	segs := total / MaxDuration
	if total%MaxDuration == 0 {
		segs--
	}
	for k := range segs {
		ts := k * MaxDuration
		n := 0
		for _, p := range pkts {
			if p.Timestamp == ts && p.Event.Duration == MaxDuration && !p.Event.End {
				n++
			}
		}
		want := finalCopies
		if rest := total - (ts + MaxDuration); rest < 2*interval {
			// The event's own end, due before the repeats, cuts them short.
			want = 1 + int(rest/interval)
		}
		if n != want {
			t.Fatalf("segment %d: %d end reports, want %d", k, n, want)
		}
	}
}

func TestSenderPatterns(t *testing.T) {
	tests := []struct {
		rate     int
		interval time.Duration
		duration time.Duration
	}{
		{8000, 0, 40 * time.Millisecond},
		{8000, 0, 60 * time.Millisecond},
		{8000, 0, 100 * time.Millisecond},
		{8000, 0, 250 * time.Millisecond},
		{8000, 0, 500 * time.Millisecond},
		{8000, 20 * time.Millisecond, 280 * time.Millisecond},
		{8000, 0, 8191875 * time.Microsecond}, // exactly MaxDuration
		{8000, 0, 8200 * time.Millisecond},    // just over: a 65-unit second segment
		{8000, 0, 10 * time.Second},
		{8000, 30 * time.Millisecond, 30 * time.Second},
		{48000, 20 * time.Millisecond, 100 * time.Millisecond},
		{48000, 0, 1365 * time.Millisecond},
		{48000, 0, 1400 * time.Millisecond},
		{48000, 0, 10 * time.Second},
		{16000, 10 * time.Millisecond, 5 * time.Second},
	}
	for _, tt := range tests {
		s, err := NewSender(SenderConfig{ClockRate: tt.rate, Interval: tt.interval})
		if err != nil {
			t.Fatal(err)
		}
		interval := tt.interval
		if interval == 0 {
			interval = DefaultInterval
		}
		pkts, err := s.AppendPackets(nil, 9, tt.duration)
		if err != nil {
			t.Fatal(err)
		}
		total := uint32(durationUnits(tt.duration, tt.rate))
		t.Run(fmt.Sprintf("%dHz/%v/%v", tt.rate, interval, tt.duration), func(t *testing.T) {
			checkSenderPattern(t, pkts, 9, total, uint32(durationUnits(interval, tt.rate)))
		})
	}
}

func TestSenderLongEventSegments(t *testing.T) {
	s, err := NewSender(SenderConfig{ClockRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	pkts, err := s.AppendPackets(nil, 1, 10*time.Second) // 80000 units
	if err != nil {
		t.Fatal(err)
	}
	// 163 updates at 400..65200, the segment end at 65535 and its two
	// repeats, updates of the second segment from 66400, then its end.
	i := 163
	want := []Packet{
		{SendAt: 65200, Timestamp: 0, Event: Event{Code: 1, Volume: 10, Duration: 65200}},
		{SendAt: 65535, Timestamp: 0, Event: Event{Code: 1, Volume: 10, Duration: 0xFFFF}},
		{SendAt: 65600, Timestamp: 0, Event: Event{Code: 1, Volume: 10, Duration: 0xFFFF}},
		{SendAt: 66000, Timestamp: 0, Event: Event{Code: 1, Volume: 10, Duration: 0xFFFF}},
		{SendAt: 66400, Timestamp: 65535, Event: Event{Code: 1, Volume: 10, Duration: 865}},
	}
	if got := pkts[i-1 : i-1+len(want)]; !reflect.DeepEqual(got, want) {
		t.Fatalf("around the segment boundary:\n got %+v\nwant %+v", got, want)
	}
	last := pkts[len(pkts)-1]
	if last.Timestamp != 65535 || last.Event.Duration != 80000-65535 || !last.Event.End {
		t.Fatalf("last packet %+v", last)
	}
}

func TestSenderReuseAndNext(t *testing.T) {
	s, err := NewSender(SenderConfig{ClockRate: 8000, Volume: 7})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Next(); ok {
		t.Fatal("Next before Start returned a packet")
	}
	a, _ := s.AppendPackets(nil, 3, 200*time.Millisecond)
	b, _ := s.AppendPackets(nil, 3, 200*time.Millisecond)
	if !reflect.DeepEqual(a, b) || len(a) != 3+finalCopies {
		t.Fatalf("reuse: %d vs %d packets", len(a), len(b))
	}
	if a[0].Event.Volume != 7 {
		t.Fatalf("volume %d", a[0].Event.Volume)
	}
	if _, ok := s.Next(); ok {
		t.Fatal("Next after the last packet returned a packet")
	}
}

func TestSenderErrors(t *testing.T) {
	for _, cfg := range []SenderConfig{
		{ClockRate: 0},
		{ClockRate: -8000},
		{ClockRate: 8000, Interval: -time.Millisecond},
		{ClockRate: 8000, Interval: time.Microsecond},
		{ClockRate: 8000, Interval: 10 * time.Second},
		{ClockRate: 8000, Volume: 64},
	} {
		if _, err := NewSender(cfg); err == nil {
			t.Errorf("NewSender(%+v) succeeded", cfg)
		}
	}
	s, _ := NewSender(SenderConfig{ClockRate: 8000})
	for _, d := range []time.Duration{0, -time.Second, 50 * time.Microsecond, 100 * time.Hour} {
		if err := s.Start(1, d); !errors.Is(err, ErrDuration) {
			t.Errorf("Start(%v) = %v, want ErrDuration", d, err)
		}
	}
}
