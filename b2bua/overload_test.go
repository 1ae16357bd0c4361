package b2bua

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// overloadedFilter is a test filter whose server has admission control with
// the given state: standing queue delay, setups, open descriptors, free
// port pairs.
func overloadedFilter(delay time.Duration, setups, fds int64, free int) (*readFilter, *answerLog, *overload) {
	f, log, _ := newTestFilter()
	o := &overload{maxDelay: int64(50 * time.Millisecond), maxSetups: 100, retryAfter: "5",
		fdLimit: 20000, fdReserve: 256, freePairs: func() int { return free }}
	o.standing.Store(int64(delay))
	o.setups.Store(setups)
	o.fds.Store(fds)
	f.s.overload = o
	return f, log, o
}

func TestOverloadReasons(t *testing.T) {
	tests := []struct {
		name   string
		delay  time.Duration
		setups int64
		fds    int64
		free   int
		want   shedReason
	}{
		{"idle", 0, 0, 100, 1000, shedNone},
		{"short queue", 40 * time.Millisecond, 99, 100, 1000, shedNone},
		{"standing queue", 60 * time.Millisecond, 0, 100, 1000, shedQueue},
		{"setups", 0, 100, 100, 1000, shedSetups},
		{"descriptors", 0, 0, 20000 - 256 - 3, 1000, shedFDs},
		{"descriptors just fit", 0, 0, 20000 - 256 - 4, 1000, shedNone},
		{"ports", 0, 0, 100, 1, shedPorts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, o := overloadedFilter(tc.delay, tc.setups, tc.fds, tc.free)
			if got := o.overloaded(); got != tc.want {
				t.Fatalf("overloaded() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestOverloadShedsOnlyNewInvites: while overloaded, a new INVITE gets a
// stateless 503 with Retry-After and goes no further; everything else
// (in-dialog INVITE, ACK, BYE, CANCEL, responses, the retransmission of an
// INVITE that started a call) passes untouched.
func TestOverloadShedsOnlyNewInvites(t *testing.T) {
	withTag := strings.Replace(normalInvite, "To: <sip:1001@pbx.example.com>", "To: <sip:1001@pbx.example.com>;tag=abc", 1)
	method := func(m string) string {
		s := strings.Replace(normalInvite, "INVITE sip:", m+" sip:", 1)
		return strings.Replace(s, "CSeq: 314159 INVITE", "CSeq: 314159 "+m, 1)
	}
	response := sipMsg("SIP/2.0 200 OK", "Via: SIP/2.0/UDP h;branch=z9hG4bK1", "From: <sip:a@b>;tag=1", "To: <sip:u@b>;tag=2", "Call-ID: x", "CSeq: 1 INVITE", "Content-Length: 0")
	tests := []struct {
		name string
		in   string
		shed bool
	}{
		{"new invite", normalInvite, true},
		{"re-invite", withTag, false},
		{"ack", method("ACK"), false},
		{"bye", method("BYE"), false},
		{"cancel", method("CANCEL"), false},
		{"options", method("OPTIONS"), false},
		{"response", response, false},
	}
	for _, info := range []sip.TransportReadProps{testUDP, testTCP} {
		for _, tc := range tests {
			t.Run(info.Transport+"/"+tc.name, func(t *testing.T) {
				f, log, o := overloadedFilter(time.Second, 0, 100, 1000)
				in := tc.in
				if info.Transport == "TCP" {
					in = strings.Replace(in, "/UDP", "/TCP", 1)
				}
				out, err := f.filter(info, []byte(in))
				if err != nil {
					t.Fatal(err)
				}
				answers := log.take()
				if !tc.shed {
					if len(out) == 0 || len(answers) != 0 {
						t.Fatalf("not passed on: %d bytes out, %d answers", len(out), len(answers))
					}
					return
				}
				if len(out) != 0 || len(answers) != 1 {
					t.Fatalf("want one 503 and nothing passed on, got %d bytes out, %d answers", len(out), len(answers))
				}
				res := answers[0]
				if res.StatusCode != 503 {
					t.Fatalf("status %d, want 503", res.StatusCode)
				}
				// The answer must parse as the caller will parse it.
				parsed, err := sip.ParseMessage([]byte(res.String()))
				if err != nil {
					t.Fatalf("503 does not parse: %v\n%s", err, res.String())
				}
				pr := parsed.(*sip.Response)
				if h := pr.GetHeader("Retry-After"); h == nil || h.Value() != "5" {
					t.Fatalf("Retry-After = %v", h)
				}
				if tagOf(pr.To().Params) == "" || tagOf(pr.From().Params) != "1928301774" {
					t.Fatalf("To/From tags wrong: %s / %s", pr.To().Value(), pr.From().Value())
				}
				if pr.Via().Params.Has("branch") == false || pr.CallID().Value() != "a84b4c76e66710@pc33.example.com" || pr.CSeq().SeqNo != 314159 {
					t.Fatalf("transaction headers not echoed:\n%s", res.String())
				}
				if n := o.rejected[shedQueue].Load(); n != 1 {
					t.Fatalf("rejected[queue_delay] = %d, want 1", n)
				}
			})
		}
	}
}

// TestOverloadKeepsRetransmission: an INVITE that started a call in
// progress is a retransmission and is never refused.
func TestOverloadKeepsRetransmission(t *testing.T) {
	f, log, _ := overloadedFilter(time.Second, 0, 100, 1000)
	f.s.invites = map[string]*Call{"invite|a84b4c76e66710@pc33.example.com|1928301774|314159": {}}
	out, _ := f.filter(testUDP, []byte(normalInvite))
	if len(out) == 0 || len(log.take()) != 0 {
		t.Fatal("retransmission of a started call was refused")
	}
	other := strings.Replace(normalInvite, "CSeq: 314159", "CSeq: 314160", 1)
	if out, _ := f.filter(testUDP, []byte(other)); len(out) != 0 || len(log.take()) != 1 {
		t.Fatal("a new INVITE of the same Call-ID was not refused")
	}
}

func TestQueueWindow(t *testing.T) {
	var standing atomic.Int64
	var w queueWindow
	ms := int64(time.Millisecond)
	now := int64(time.Hour)
	// A stall: one burst of old datagrams, then the reader drains the
	// queue: no standing delay.
	w.observe(now, 300*ms, &standing)
	w.observe(now+ms, 250*ms, &standing)
	w.empty()
	w.observe(now+queueInterval, 1*ms, &standing)
	if got := standing.Load(); got != 0 {
		t.Fatalf("after a stall standing = %v, want 0", time.Duration(got))
	}
	// A standing queue: every datagram of a window waited 80-120 ms.
	for i := int64(0); i < 20; i++ {
		w.observe(now+queueInterval+i*10*ms, 80*ms+i*2*ms, &standing)
	}
	w.observe(now+3*queueInterval, 90*ms, &standing)
	if got := standing.Load(); got < 80*ms {
		t.Fatalf("standing = %v, want at least 80ms", time.Duration(got))
	}
}

func TestTagParam(t *testing.T) {
	for in, want := range map[string]string{
		`"A" <sip:a@b;tag=no>;tag=yes`: "yes",
		`<sip:a@b>;foo=1; TAG = x `:    "x",
		`sip:a@b;tag=z`:                "z",
		`<sip:a@b>`:                    "",
	} {
		if got := tagParam(in); got != want {
			t.Errorf("tagParam(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkReadFilterAdmission is BenchmarkReadFilter's INVITE with
// admission control on and not overloaded: the cost it adds to a new call.
func BenchmarkReadFilterAdmission(b *testing.B) {
	f, _, _ := overloadedFilter(0, 0, 100, 1000)
	buf := make([]byte, len(normalInvite), 32768)
	b.ReportAllocs()
	for range b.N {
		buf = buf[:len(normalInvite)]
		copy(buf, normalInvite)
		if out, err := f.filter(testUDP, buf); err != nil || len(out) < len(normalInvite) {
			b.Fatalf("filter: %v", err)
		}
	}
}
