package b2bua

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/config"
)

// The call state machine on a fake clock: every state (early, answered,
// confirmed, ended) and the timers that move it, driven by advancing the
// clock rather than sleeping. RFC 3261 §13.3.1.4 (2xx retransmission and
// the missing ACK), RFC 3262 §3 (reliable provisionals), RFC 4028 §10
// (session expiry), and the ring timeout and the linger after the end.

// fakeClock is a clock the test advances; timers run, in order of their
// instants, on the goroutine that advances it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c    *fakeClock
	at   time.Time
	f    func()
	done bool
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.done
	t.done = true
	return was
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_800_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) stopper {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

// Advance moves the clock d forward, running each timer that falls due on
// the way at its own instant (and the timers those start, if due).
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	for {
		var next *fakeTimer
		for _, t := range c.timers {
			if !t.done && !t.at.After(end) && (next == nil || t.at.Before(next.at)) {
				next = t
			}
		}
		if next == nil {
			break
		}
		next.done = true
		c.now = next.at
		c.mu.Unlock()
		next.f()
		c.mu.Lock()
	}
	c.now = end
	c.mu.Unlock()
}

// clockedCall is fakeCall on a fake clock, with a configuration in force.
func clockedCall(t *testing.T, extra string) (*Call, *fakeClock, *fakeServerTx, *fakeSender, *discardRecords) {
	t.Helper()
	c, tx, snd, rec := fakeCall(t, extra)
	fc := newFakeClock()
	c.clock = fc
	s := c.host.(*Server)
	s.policy.Store(&policy{cfg: &config.Config{Calls: config.Calls{RingTimeout: 30 * time.Second}}})
	return c, fc, tx, snd, rec
}

// locked runs f under the call's lock, as the call's events run.
func locked(c *Call, f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f()
}

func (c *Call) stateNow() (callState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state, c.over
}

func (f *fakeSender) counts() (rewrites int, requests []sip.RequestMethod) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.rewrite), append([]sip.RequestMethod(nil), f.requests...)
}

// expectEndedWithBye asserts the call ended and sent one request, a BYE.
func expectEndedWithBye(t *testing.T, c *Call, snd *fakeSender) {
	t.Helper()
	st, _ := c.stateNow()
	if _, reqs := snd.counts(); st != stateEnded || len(reqs) != 1 || reqs[0] != sip.BYE {
		t.Fatalf("state %v, requests %v: want ended with a BYE", st, reqs)
	}
}

// TestStateEarlyRingTimeout: an early call that nobody answers within
// calls.ring_timeout gets 480 with Reason Q.850 cause 19 (no answer), one
// record (no answer, ended by Switchboard), and is finished at once (no
// client transaction needs it).
func TestStateEarlyRingTimeout(t *testing.T) {
	c, fc, tx, _, rec := clockedCall(t, "")
	locked(c, func() { c.arm(timerRing, 30*time.Second) })
	fc.Advance(30*time.Second - time.Millisecond)
	if got := tx.codes(); len(got) != 0 {
		t.Fatalf("before the ring timeout the caller got %v", got)
	}
	if st, _ := c.stateNow(); st != stateEarly {
		t.Fatalf("state %v before the ring timeout", st)
	}
	fc.Advance(time.Millisecond)
	if got := tx.codes(); len(got) != 1 || got[0] != 480 {
		t.Fatalf("after the ring timeout the caller got %v, want 480", got)
	}
	if r := tx.sent[0].GetHeader("Reason"); r == nil || !strings.Contains(r.Value(), "cause=19") {
		t.Errorf("480 Reason %v, want Q.850 cause 19", r)
	}
	st, over := c.stateNow()
	if st != stateEnded || !over {
		t.Fatalf("state %v over %v, want ended and finished", st, over)
	}
	if len(rec.recs) != 1 || rec.recs[0].Disposition != cdr.NoAnswer || rec.recs[0].HangupSide != cdr.HangupSwitchboard {
		t.Fatalf("records %+v", rec.recs)
	}
}

// answer sends the caller a 2xx as the call does when the callee answers.
func answer(c *Call) {
	locked(c, func() {
		c.state = stateAnswered
		c.respondA(200, []byte("v=0\r\n"))
	})
}

// TestStateAnsweredRetransmitsUntilAck: in the answered state the 2xx is
// retransmitted at T1, 2·T1, 4·T1... capped at T2 (RFC 3261 §13.3.1.4);
// the caller's ACK confirms the call and stops them.
func TestStateAnsweredRetransmitsUntilAck(t *testing.T) {
	c, fc, _, snd, rec := clockedCall(t, "")
	answer(c)
	// Due at 0.5, 1.5, 3.5, 7.5, 11.5 s (the interval stops at T2 = 4 s).
	for i, step := range []time.Duration{sip.T1, 2 * sip.T1, 4 * sip.T1, sip.T2, sip.T2} {
		fc.Advance(step - time.Millisecond)
		if n, _ := snd.counts(); n != i {
			t.Fatalf("%d retransmissions a millisecond before the %d. is due, want %d", n, i+1, i)
		}
		fc.Advance(time.Millisecond)
		if n, _ := snd.counts(); n != i+1 {
			t.Fatalf("%d retransmissions when the %d. is due", n, i+1)
		}
	}
	ack := parseLegReq(t, "ACK sip:sb@127.0.0.1:5060 SIP/2.0\n"+
		"Via: SIP/2.0/UDP 127.0.0.3:5070;branch=z9hG4bK-a\n"+
		"From: <sip:1000@127.0.0.1>;tag=ftag\nTo: <sip:1001@127.0.0.1>;tag=sbtag\n"+
		"Call-ID: prack-1\nCSeq: 7 ACK\nContent-Length: 0\n\n")
	c.post(evAck{req: ack, key: dialogKey("prack-1", "sbtag")})
	if st, _ := c.stateNow(); st != stateConfirmed {
		t.Fatalf("state %v after the ACK, want confirmed", st)
	}
	fc.Advance(time.Minute)
	if n, _ := snd.counts(); n != 5 {
		t.Fatalf("%d retransmissions after the ACK, want none more than 5", n)
	}
	if len(rec.recs) != 0 {
		t.Fatalf("records %+v while the call is up", rec.recs)
	}
}

// TestStateAnsweredNoAck: a 2xx whose ACK never comes ends the call once
// 64·T1 has passed: BYE to the caller, one answered record ended by
// Switchboard with reason "no ACK".
func TestStateAnsweredNoAck(t *testing.T) {
	c, fc, _, snd, rec := clockedCall(t, "")
	answer(c)
	fc.Advance(64 * sip.T1)
	if st, _ := c.stateNow(); st != stateAnswered {
		t.Fatalf("state %v at 64·T1, want answered (the next retransmission timer judges it)", st)
	}
	fc.Advance(sip.T2)
	expectEndedWithBye(t, c, snd)
	if len(rec.recs) != 1 || rec.recs[0].Disposition != cdr.Answered || rec.recs[0].HangupReason != "no ACK" ||
		rec.recs[0].HangupSide != cdr.HangupSwitchboard {
		t.Fatalf("records %+v", rec.recs)
	}
}

// TestStateEarlyReliableProvisionalTimeout: a reliable 180 to a caller
// that required 100rel is retransmitted at T1 doubling (not capped, RFC
// 3262 §3) and, with no PRACK by 64·T1, the INVITE is rejected with 504.
func TestStateEarlyReliableProvisionalTimeout(t *testing.T) {
	c, fc, tx, snd, rec := clockedCall(t, "Require: 100rel\n")
	locked(c, func() { c.respondA(180, nil) })
	// Due at 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s; the next, at 63.5 s, is past
	// the deadline and rejects.
	fc.Advance(31*time.Second + 499*time.Millisecond)
	if n, _ := snd.counts(); n != 5 {
		t.Fatalf("%d retransmissions of the 180 by 31.499 s, want 5", n)
	}
	fc.Advance(time.Millisecond)
	if n, _ := snd.counts(); n != 6 {
		t.Fatalf("%d retransmissions of the 180 at 31.5 s, want 6", n)
	}
	if got := tx.codes(); len(got) != 1 {
		t.Fatalf("caller got %v before the deadline", got)
	}
	fc.Advance(32 * time.Second)
	if got := tx.codes(); len(got) != 2 || got[1] != 504 {
		t.Fatalf("caller got %v, want 180 then 504", got)
	}
	if st, _ := c.stateNow(); st != stateEnded || len(rec.recs) != 1 || rec.recs[0].Disposition != cdr.Failed {
		t.Fatalf("state %v, records %+v", st, rec.recs)
	}
}

// TestStateConfirmedSessionExpiry: a confirmed call whose caller is the
// refresher of a 90 s session and never refreshes ends when the session
// expires, 90 − min(32, 90/3) = 60 s after it was armed (RFC 4028 §10):
// BYE, Q.850 cause 102 (recovery on timer expiry), one record.
func TestStateConfirmedSessionExpiry(t *testing.T) {
	c, fc, _, snd, rec := clockedCall(t, "")
	locked(c, func() {
		c.state = stateConfirmed
		c.rec.Status = 200
		c.sessA = sessionTimer{interval: 90 * time.Second}
		c.armSession(c.a)
	})
	fc.Advance(60*time.Second - time.Millisecond)
	if st, _ := c.stateNow(); st != stateConfirmed {
		t.Fatalf("state %v before the session expired", st)
	}
	fc.Advance(time.Millisecond)
	expectEndedWithBye(t, c, snd)
	if len(rec.recs) != 1 || rec.recs[0].HangupReason != "session timer expired" || rec.recs[0].Q850Cause != causeTimerExpiry {
		t.Fatalf("records %+v", rec.recs)
	}
}

// TestStateConfirmedWeRefresh: where Switchboard is the refresher it
// refreshes at half the interval (RFC 4028 §7.4) and the call stays up.
func TestStateConfirmedWeRefresh(t *testing.T) {
	c, fc, _, snd, _ := clockedCall(t, "")
	locked(c, func() {
		c.state = stateConfirmed
		c.sessA = sessionTimer{interval: 90 * time.Second, weRefresh: true, update: true}
		c.armSession(c.a)
	})
	fc.Advance(45*time.Second - time.Millisecond)
	if _, reqs := snd.counts(); len(reqs) != 0 {
		t.Fatalf("requests %v before half the interval", reqs)
	}
	fc.Advance(time.Millisecond)
	// The fake sender refuses the UPDATE, and a refresh that cannot be
	// sent loses the session: UPDATE first, then the BYE.
	if _, reqs := snd.counts(); len(reqs) < 1 || reqs[0] != sip.UPDATE {
		t.Fatalf("requests %v at half the interval, want an UPDATE refresh", reqs)
	}
}

// TestStateEndedLinger: a call that ended while a client transaction is
// still live lingers (late responses are still ACKed or answered) and is
// finished once 64·T1 has passed.
func TestStateEndedLinger(t *testing.T) {
	c, fc, tx, _, rec := clockedCall(t, "")
	c.post(evTimer{kind: timerRing}) // ends the early call at once (480)
	st, over := c.stateNow()
	if st != stateEnded || !over {
		t.Fatalf("state %v over %v: a call with nothing live is finished at its end", st, over)
	}

	c, fc, tx, _, rec = clockedCall(t, "")
	locked(c, func() {
		c.live = 1 // a fork's INVITE transaction that has not ended
		c.arm(timerRing, time.Second)
	})
	fc.Advance(time.Second)
	st, over = c.stateNow()
	if st != stateEnded || over || len(tx.codes()) != 1 || len(rec.recs) != 1 {
		t.Fatalf("state %v over %v, caller got %v, %d records: want ended, lingering, one 480 and one record", st, over, tx.codes(), len(rec.recs))
	}
	fc.Advance(64*sip.T1 - time.Millisecond)
	if _, over := c.stateNow(); over {
		t.Fatal("finished before 64·T1")
	}
	fc.Advance(time.Millisecond)
	if _, over := c.stateNow(); !over {
		t.Fatal("still lingering after 64·T1")
	}
	if len(rec.recs) != 1 {
		t.Fatalf("%d records, want one", len(rec.recs))
	}
}
