package b2bua

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
)

func TestParseRAck(t *testing.T) {
	for _, tc := range []struct {
		hdr        string
		rseq, cseq uint32
		method     string
		ok         bool
	}{
		{"776656 1 INVITE", 776656, 1, "INVITE", true},
		{"  5   2 invite ", 5, 2, "INVITE", true},
		{"0 1 INVITE", 0, 0, "", false},
		{"1 INVITE", 0, 0, "", false},
		{"x 1 INVITE", 0, 0, "", false},
		{"", 0, 0, "", false},
	} {
		req := sip.NewRequest(sip.PRACK, sip.Uri{Scheme: "sip", Host: "example.com"})
		if tc.hdr != "" {
			req.AppendHeader(sip.NewHeader("RAck", tc.hdr))
		}
		rseq, cseq, method, ok := parseRAck(req)
		if ok != tc.ok || rseq != tc.rseq || cseq != tc.cseq || method != tc.method {
			t.Errorf("RAck %q: %d %d %q %v", tc.hdr, rseq, cseq, method, ok)
		}
	}
}

func TestRelOf(t *testing.T) {
	for _, tc := range []struct {
		hdrs []string // name, value pairs
		want relState
	}{
		{nil, relNone},
		{[]string{"Supported", "timer, replaces"}, relNone},
		{[]string{"Supported", "timer, 100rel"}, relSupported},
		{[]string{"k", "100REL"}, relSupported},
		{[]string{"Supported", "100rel", "Require", "100rel"}, relRequired},
	} {
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", Host: "example.com"})
		for i := 0; i < len(tc.hdrs); i += 2 {
			req.AppendHeader(sip.NewHeader(tc.hdrs[i], tc.hdrs[i+1]))
		}
		if got := relOf(req); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.hdrs, got, tc.want)
		}
	}
}

// fakeServerTx records the responses a call sends on the caller's INVITE
// transaction (and on in-dialog transactions).
type fakeServerTx struct {
	sip.ServerTransaction
	mu   sync.Mutex
	sent []*sip.Response
}

func (f *fakeServerTx) Respond(res *sip.Response) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, res)
	return nil
}

func (f *fakeServerTx) Terminate() {}

func (f *fakeServerTx) codes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for _, r := range f.sent {
		out = append(out, r.StatusCode)
	}
	return out
}

// fakeSender counts retransmitted responses and the requests the call
// tried to send (which fail: no transactions here).
type fakeSender struct {
	mu       sync.Mutex
	rewrite  []*sip.Response
	requests []sip.RequestMethod
}

func (f *fakeSender) request(_ context.Context, req *sip.Request) (sip.ClientTransaction, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req.Method)
	return nil, errors.New("no transactions in this test")
}
func (f *fakeSender) writeRequest(*sip.Request) error { return nil }
func (f *fakeSender) writeResponse(res *sip.Response) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rewrite = append(f.rewrite, res)
	return nil
}

type discardRecords struct{ recs []cdr.Record }

func (d *discardRecords) Write(r cdr.Record) { d.recs = append(d.recs, r) }
func (d *discardRecords) Up(*cdr.Record)     {}

// prackCall is a call in its early state whose caller required 100rel,
// with fakes for everything it talks to.
func prackCall(t *testing.T) (*Call, *fakeServerTx, *fakeSender, *discardRecords) {
	return fakeCall(t, "Require: 100rel\n")
}

// fakeCall is a call in its early state from a caller whose INVITE has
// the extra headers, with fakes for everything it talks to.
func fakeCall(t *testing.T, extra string) (*Call, *fakeServerTx, *fakeSender, *discardRecords) {
	t.Helper()
	inv := parseLegReq(t, "INVITE sip:1001@127.0.0.1 SIP/2.0\n"+
		"Via: SIP/2.0/UDP 127.0.0.3:5070;branch=z9hG4bK-1\n"+
		"From: <sip:1000@127.0.0.1>;tag=ftag\nTo: <sip:1001@127.0.0.1>\n"+
		"Call-ID: prack-1\nCSeq: 7 INVITE\n"+extra+
		"Contact: <sip:1000@127.0.0.3:5070>\nContent-Length: 0\n\n")
	s := &Server{userAgent: "Switchboard-test", calls: map[string]*Call{}}
	tx, snd, rec := &fakeServerTx{}, &fakeSender{}, &discardRecords{}
	c := &Call{
		id: "test", host: s, sip: snd, records: rec,
		log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		done:   make(chan struct{}),
		aFinal: make(chan struct{}),
		aReq:   inv, aTx: tx, ref: new(atomic.Pointer[Call]),
	}
	c.ref.Store(c)
	c.a = &Leg{Name: "a", CallID: "prack-1", LocalTag: "sbtag", Transport: "UDP", Rel: relOf(inv),
		Contact: sip.Uri{Scheme: "sip", User: "sb", Host: "127.0.0.1", Port: 5060}}
	t.Cleanup(func() {
		c.mu.Lock()
		for k := range c.timers {
			c.disarm(timerKind(k))
		}
		c.mu.Unlock()
	})
	return c, tx, snd, rec
}

// TestReliableProvisional drives the caller side of RFC 3262 §3: the 183
// carries Require: 100rel and RSeq; it is retransmitted with T1 doubling;
// a 2xx waits for the PRACK of a 183 with SDP; a PRACK with a wrong RAck
// gets 481, the right one 200, and then the 2xx goes out.
func TestReliableProvisional(t *testing.T) {
	c, tx, snd, _ := prackCall(t)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.a.Rel != relRequired {
		t.Fatalf("Require: 100rel read as %v", c.a.Rel)
	}
	c.respondA(183, []byte("v=0\n"))
	if got := tx.codes(); len(got) != 1 || got[0] != 183 {
		t.Fatalf("sent %v, want one 183", got)
	}
	r183 := tx.sent[0]
	rseq := r183.GetHeader("RSeq")
	if req := r183.GetHeader("Require"); req == nil || req.Value() != "100rel" || rseq == nil {
		t.Fatalf("183 without Require: 100rel and RSeq:\n%s", r183)
	}
	// Retransmissions: T1, 2T1, 4T1... (not capped at T2).
	want := sip.T1
	for i := 0; i < 5; i++ {
		if c.prov.interval != want {
			t.Fatalf("retransmission %d: interval %v, want %v", i, c.prov.interval, want)
		}
		c.onReliableTimer()
		want *= 2
	}
	if len(snd.rewrite) != 5 || snd.rewrite[0] != r183 {
		t.Fatalf("%d retransmissions of the 183, want 5", len(snd.rewrite))
	}
	// A second provisional waits; a 2xx waits for the PRACK.
	c.respondA(180, nil)
	c.state = stateAnswered
	c.respondA(200, []byte("v=0\n"))
	if got := tx.codes(); len(got) != 1 {
		t.Fatalf("sent %v before the PRACK, want only the 183", got)
	}

	prack := func(rack string) *fakeServerTx {
		ptx := &fakeServerTx{}
		req := parseLegReq(t, "PRACK sip:sb@127.0.0.1:5060 SIP/2.0\n"+
			"Via: SIP/2.0/UDP 127.0.0.3:5070;branch=z9hG4bK-p"+rack[:1]+"\n"+
			"From: <sip:1000@127.0.0.1>;tag=ftag\nTo: <sip:1001@127.0.0.1>;tag=sbtag\n"+
			"Call-ID: prack-1\nCSeq: 8 PRACK\nRAck: "+rack+"\nContent-Length: 0\n\n")
		c.onPrack(&evRequest{req: req, tx: ptx, done: make(chan struct{})}, c.a)
		return ptx
	}
	if got := prack("1 7 INVITE").codes(); len(got) != 1 || got[0] != 481 {
		t.Fatalf("PRACK with a wrong RSeq: %v, want 481", got)
	}
	if got := prack(rseq.Value() + " 6 INVITE").codes(); len(got) != 1 || got[0] != 481 {
		t.Fatalf("PRACK with a wrong CSeq: %v, want 481", got)
	}
	if got := prack(rseq.Value() + " 7 INVITE").codes(); len(got) != 1 || got[0] != 200 {
		t.Fatalf("PRACK: %v, want 200", got)
	}
	if got := tx.codes(); len(got) != 2 || got[1] != 200 {
		t.Fatalf("after the PRACK the caller got %v, want 183 then the held 200 (the 180 is moot once answered)", got)
	}
	if c.prov != nil || c.deferred != nil {
		t.Error("reliable state left after the final response")
	}
}

// TestReliableProvisionalTimeout: 64·T1 without PRACK rejects the INVITE
// with a 5xx (RFC 3262 §3) and writes one record.
func TestReliableProvisionalTimeout(t *testing.T) {
	c, tx, _, rec := prackCall(t)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.respondA(180, nil)
	c.prov.deadline = time.Now().Add(-time.Millisecond)
	c.onReliableTimer()
	if got := tx.codes(); len(got) != 2 || got[1] != 504 {
		t.Fatalf("sent %v, want 180 then 504", got)
	}
	if c.state != stateEnded || len(rec.recs) != 1 || rec.recs[0].Disposition != cdr.Failed || rec.recs[0].HangupSide != cdr.HangupSwitchboard {
		t.Fatalf("state %v, records %+v", c.state, rec.recs)
	}
}

// TestPlainCallerGetsPlainProvisional: never a reliable 18x to a caller
// that did not offer 100rel.
func TestPlainCallerGetsPlainProvisional(t *testing.T) {
	c, tx, _, _ := prackCall(t)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.a.Rel = relNone
	c.respondA(183, []byte("v=0\n"))
	c.respondA(180, nil)
	if got := tx.codes(); len(got) != 2 || tx.sent[0].GetHeader("RSeq") != nil || tx.sent[0].GetHeader("Require") != nil || c.prov != nil {
		t.Fatalf("plain caller: sent %v with reliable headers or state", got)
	}
}
