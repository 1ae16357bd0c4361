package vqreport

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/rtcpstats"
)

func record() *cdr.Record {
	start := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	return &cdr.Record{
		CallID: "sb-1", ACallID: "a-call@phone", BCallID: "b-call@sb",
		From: "1000@pbx.example", To: "5551234@pbx.example",
		Start: start, Answer: start.Add(2 * time.Second), End: start.Add(62 * time.Second),
		Quality: &rtcpstats.CallQuality{Legs: []rtcpstats.LegQuality{{
			Leg: "a", Codec: "PCMA", PtimeMs: 20, LocalAddr: "192.0.2.1:30000", RemoteAddr: "[2001:db8::5]:4000",
			LocalSSRC: 0x1234abcd, RemoteSSRC: 0xfe, RTTMs: 81.6, RTTSamples: 3,
			Received: rtcpstats.ReceivedQuality{Packets: 2970, Expected: 3000, Lost: 30, LossRate: 0.01, Late: 3, Discarded: 3,
				JitterMeanMs: 4.4, JitterBufferMs: 40, JitterBufferMaxMs: 80, RFactor: 84.2, MOS: 4.17, MOSLQ: 4.2},
			Sent: rtcpstats.SentQuality{Packets: 3000, Reported: true, FarFractionLost: 0.02, FarJitterMs: 7.6, FarRFactor: 80, FarMOS: 4.02},
		}, {Leg: "b", Codec: "opus", PtimeMs: 20}}},
	}
}

// TestFormat: the report of each leg carries RFC 6035 §4.7's fields with
// the record's values; leg b's identities are the other way round.
func TestFormat(t *testing.T) {
	rec := record()
	a := string(Format(rec, rec.Quality.Legs[0]))
	want := []string{
		"VQSessionReport: CallTerm",
		"CallID: a-call@phone",
		"LocalID: <sip:5551234@pbx.example>",
		"RemoteID: <sip:1000@pbx.example>",
		"OrigID: <sip:1000@pbx.example>",
		"LocalGroup: sb-1",
		"LocalAddr: IP=192.0.2.1 PORT=30000 SSRC=0x1234ABCD",
		"RemoteAddr: IP=2001:db8::5 PORT=4000 SSRC=0x000000FE",
		"LocalMetrics:",
		"Timestamps: START=2026-12-03T10:00:02Z STOP=2026-12-03T10:01:02Z",
		"SessionDesc: PD=PCMA FD=20 PPS=50 PLC=3",
		"JitterBuffer: JBA=3 JBN=40 JBM=80",
		"PacketLoss: NLR=1.0 JDR=0.2",
		"BurstGapLoss: BLD=0.0 GLD=0.0 GMIN=16",
		"Delay: RTD=82 IAJ=4",
		"QualityEstimates: RCQ=84 MOSLQ=4.2 MOSCQ=4.2 QoEEstAlg=ITU-T G.107",
		"RemoteMetrics:",
		"Timestamps: START=2026-12-03T10:00:02Z STOP=2026-12-03T10:01:02Z",
		"SessionDesc: PD=PCMA FD=20 PPS=50 PLC=3",
		"PacketLoss: NLR=2.0",
		"Delay: RTD=82 IAJ=8",
		"QualityEstimates: RCQ=80 MOSCQ=4.0",
		"DialogID: a-call@phone",
	}
	if got := strings.Split(strings.TrimSuffix(a, "\r\n"), "\r\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("leg a report:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	b := string(Format(rec, rec.Quality.Legs[1]))
	for _, l := range []string{"CallID: b-call@sb", "LocalID: <sip:1000@pbx.example>", "RemoteID: <sip:5551234@pbx.example>", "DialogID: b-call@sb"} {
		if !strings.Contains(b, l+"\r\n") {
			t.Errorf("leg b report lacks %q:\n%s", l, b)
		}
	}
	if strings.Contains(b, "RemoteMetrics") || strings.Contains(b, "QualityEstimates") {
		t.Errorf("leg b had no RTCP from its peer and no MOS, yet:\n%s", b)
	}
}

// TestFormatKeepsFieldsOnTheirLine: a From user with CR LF cannot forge a
// field of the report.
func TestFormatKeepsFieldsOnTheirLine(t *testing.T) {
	rec := record()
	rec.From = "evil\r\nQualityEstimates: MOSCQ=5.0@x"
	out := string(Format(rec, rec.Quality.Legs[1]))
	for _, l := range strings.Split(out, "\r\n") {
		if strings.HasPrefix(l, "QualityEstimates") {
			t.Fatalf("forged line %q in\n%s", l, out)
		}
	}
}

type fakeSender struct {
	mu     sync.Mutex
	bodies []string
	block  chan struct{}
	status int
}

func (f *fakeSender) Publish(ctx context.Context, u sip.Uri, event, ct string, body []byte) (int, error) {
	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if event != Event || ct != ContentType || u.Host != "collector.example" {
		return 0, nil
	}
	f.bodies = append(f.bodies, string(body))
	return f.status, nil
}

// TestPublisher: one report per leg with media; none for a call without
// media; Close sends what is queued; a refused report is counted failed.
func TestPublisher(t *testing.T) {
	f := &fakeSender{status: 200}
	p := New(f, slog.New(slog.NewTextHandler(io.Discard, nil)))
	u := sip.Uri{Scheme: "sip", Host: "collector.example"}
	p.Observe(u, record())
	p.Observe(u, &cdr.Record{CallID: "no-media"})
	p.Close()
	if sent, failed, dropped := p.Counts(); sent != 2 || failed != 0 || dropped != 0 || len(f.bodies) != 2 {
		t.Fatalf("sent %d failed %d dropped %d bodies %d, want 2 0 0 2", sent, failed, dropped, len(f.bodies))
	}
	refused := &fakeSender{status: 489}
	p = New(refused, slog.New(slog.NewTextHandler(io.Discard, nil)))
	p.Observe(u, record())
	p.Close()
	if sent, failed, _ := p.Counts(); sent != 0 || failed != 2 {
		t.Fatalf("489 from the collector: sent %d failed %d, want 0 2", sent, failed)
	}
}

// TestPublisherNeverBlocks: with the collector stuck, Observe returns at
// once and drops beyond the queue.
func TestPublisherNeverBlocks(t *testing.T) {
	f := &fakeSender{status: 200, block: make(chan struct{})}
	p := New(f, slog.New(slog.NewTextHandler(io.Discard, nil)))
	u := sip.Uri{Scheme: "sip", Host: "collector.example"}
	done := make(chan struct{})
	go func() {
		for range queueLen + 10 {
			p.Observe(u, record())
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Observe blocked on a stuck collector")
	}
	if _, _, dropped := p.Counts(); dropped == 0 {
		t.Error("nothing dropped beyond the queue")
	}
	close(f.block)
	p.Close()
}
