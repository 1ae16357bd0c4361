package rtcpstats

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// TestInterval checks RFC 3550 A.7 for a two-party call: the minimum
// dominates, halved for the first report, randomised 0.5-1.5 × and
// divided by e - 3/2.
func TestInterval(t *testing.T) {
	secs := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	tests := []struct {
		name string
		p    IntervalParams
		rnd  float64
		want time.Duration
	}{
		{"initial, low", IntervalParams{Members: 2, Senders: 1, WeSent: true, AvgSize: 100, Initial: true}, 0, secs(2.5 * 0.5 / compensation)},
		{"initial, high", IntervalParams{Members: 2, Senders: 1, WeSent: true, AvgSize: 100, Initial: true}, 1, secs(2.5 * 1.5 / compensation)},
		{"steady, middle", IntervalParams{Members: 2, Senders: 2, AvgSize: 200}, 0.5, secs(5 / compensation)},
		// 1000 members, one sender: as a receiver, 999 reports of 200 B
		// share 75 % of 400 B/s: 666 s.
		{"large, receiver", IntervalParams{Members: 1000, Senders: 1, AvgSize: 200}, 0.5, secs(999 * 200 / (0.75 * DefaultRTCPBandwidth) / compensation)},
		// As the one sender: 25 % for 1 sender of 200 B is 2 s, below 5 s.
		{"large, sender", IntervalParams{Members: 1000, Senders: 1, WeSent: true, AvgSize: 200}, 0.5, secs(5 / compensation)},
	}
	for _, tt := range tests {
		got := Interval(tt.p, tt.rnd)
		if d := got - tt.want; d.Abs() > time.Millisecond {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := AvgSize(0, 120); got != 120 {
		t.Errorf("first AvgSize %v", got)
	}
	if got := AvgSize(100, 260); got != 110 {
		t.Errorf("AvgSize(100, 260) = %v, want 110", got)
	}
}

// TestLegQualityRecord takes the record of a leg that received a lossy
// stream, was answered by the peer's RR and XR, and had playout stats
// reported, and checks its JSON shape and the summary.
func TestLegQualityRecord(t *testing.T) {
	a, b := newPair(true)
	b.SetPlayoutStats(PlayoutStats{Late: 2, Reordered: 3, Delay: 40 * time.Millisecond, MaxDelay: 60 * time.Millisecond, Concealed: 100 * time.Millisecond})
	sendRTP(a, b, 0, 100, t0, map[uint16]bool{10: true, 50: true})
	sendRTP(b, a, 0, 100, t0, nil)
	// a reports on b's stream (RR block + XR VoIP Metrics) to b.
	if err := b.HandleRTCP(marshal(t, a.ReportPackets(at(2100))), at(2110)); err != nil {
		t.Fatal(err)
	}
	b.ReportPackets(at(2200)) // samples jitter once
	q := b.LegQuality("b")
	if q.Received.Lost != 2 || q.Received.Packets != 98 || q.Received.Late != 2 || q.Received.Reordered != 3 {
		t.Errorf("received %+v", q.Received)
	}
	if q.Received.JitterBufferMs != 40 || q.Received.JitterBufferMaxMs != 60 || q.Received.ConcealedMs != 100 {
		t.Errorf("playout %+v", q.Received)
	}
	if !(q.Received.MOS > 3 && q.Received.MOS < 4.5) || q.Codec != "PCMU" || q.PtimeMs != 20 {
		t.Errorf("MOS %v codec %q ptime %v", q.Received.MOS, q.Codec, q.PtimeMs)
	}
	if !q.Sent.Reported || q.Sent.Packets != 100 || q.Sent.FarMOS == 0 {
		t.Errorf("sent %+v", q.Sent)
	}
	buf, err := json.Marshal(CallQuality{Legs: []LegQuality{q}})
	if err != nil {
		t.Fatal(err)
	}
	var back map[string][]map[string]any
	if err := json.Unmarshal(buf, &back); err != nil {
		t.Fatal(err)
	}
	leg := back["legs"][0]
	for _, k := range []string{"leg", "codec", "ptime_ms", "rtt_ms", "received", "sent", "rtcp_sent"} {
		if _, ok := leg[k]; !ok {
			t.Errorf("no %q in %s", k, buf)
		}
	}
	recv := leg["received"].(map[string]any)
	for _, k := range []string{"packets", "lost", "late", "discarded", "reordered", "duplicates", "jitter_mean_ms", "jitter_max_ms", "jitter_buffer_ms", "concealed_ms", "r_factor", "mos"} {
		if _, ok := recv[k]; !ok {
			t.Errorf("no received.%q in %s", k, buf)
		}
	}
	kv := CallQuality{Legs: []LegQuality{q}}.Summary()
	if len(kv) != 6 || kv[0] != "mos_b" || kv[4] != "jitter_ms" {
		t.Errorf("summary %v", kv)
	}
}

// TestSetSSRC: after SetSSRC reports carry the new SSRC and the peer's
// report blocks about it are recognised.
func TestSetSSRC(t *testing.T) {
	a, b := newPair(false)
	a.SetSSRC(0x1234)
	sendRTP(a, b, 0, 10, t0, nil)
	pkts := a.ReportPackets(at(500))
	if sr := pkts[0].(*rtcp.SenderReport); sr.SSRC != 0x1234 {
		t.Fatalf("SR SSRC %#x", sr.SSRC)
	}
	rr := b.ReportPackets(at(700))
	if blocks := rr[0].(*rtcp.ReceiverReport).Reports; len(blocks) != 1 || blocks[0].SSRC != 0x1234 {
		t.Fatalf("b's RR blocks %+v", blocks)
	}
	if err := a.HandleRTCP(marshal(t, rr), at(710)); err != nil {
		t.Fatal(err)
	}
	if !a.reported() {
		t.Error("block about the new SSRC not recognised")
	}
}
