package b2bua

import (
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
)

// Reliable provisional responses (RFC 3262), negotiated on each leg on its
// own: the caller's Supported/Require of its INVITE decides whether our
// 18x to it are reliable; the callee's Require in its 18x decides whether
// we PRACK it. The two are interworked: a caller that requires 100rel gets
// a callee's plain 183 as a reliable one and Switchboard answers its
// PRACK; a callee's reliable 183 is PRACKed by Switchboard and reaches a
// plain caller as a plain 183. Nothing of one leg's 100rel reaches the
// other (no Require: 100rel to a leg that did not offer it).
//
//	caller side (UAS):  18x+RSeq ──T1,2T1,4T1…──► (retransmitted)
//	                      │ PRACK with matching RAck: 200, next queued 18x or
//	                      │ the deferred 2xx goes out
//	                      └ 64·T1 without PRACK: 5xx to the caller (§3)
//	callee side (UAC):  18x with Require: 100rel and a new RSeq ─► PRACK
//	                    (RAck: RSeq CSeq INVITE) in the early dialog

// optionTag100rel is the option tag of RFC 3262.
const optionTag100rel = "100rel"

// relState is what a leg's peer said of 100rel.
type relState int

const (
	// relNone: the peer did not offer 100rel.
	relNone relState = iota
	// relSupported: Supported: 100rel; reliable provisionals are allowed.
	relSupported
	// relRequired: Require: 100rel; provisionals must be reliable.
	relRequired
)

// relOf reads a request's 100rel offer (RFC 3262 §3).
func relOf(req *sip.Request) relState {
	switch {
	case hasOptionTag(req, "Require", optionTag100rel):
		return relRequired
	case hasOptionTag(req, "Supported", optionTag100rel) || hasOptionTag(req, "k", optionTag100rel):
		return relSupported
	}
	return relNone
}

// hasOptionTag reports whether a header of that name lists tag.
func hasOptionTag(m interface{ GetHeaders(string) []sip.Header }, name, tag string) bool {
	for _, h := range m.GetHeaders(name) {
		for _, t := range strings.Split(h.Value(), ",") {
			if strings.EqualFold(strings.TrimSpace(t), tag) {
				return true
			}
		}
	}
	return false
}

// provisional is a response to the caller waiting its turn.
type provisional struct {
	code int
	body []byte
}

// reliable1xx is a reliable provisional sent to the caller and not yet
// PRACKed; it is retransmitted with T1 doubling until 64·T1 (RFC 3262 §3).
type reliable1xx struct {
	res      *sip.Response
	rseq     uint32
	sdp      bool // carried a session description
	interval time.Duration
	deadline time.Time
}

// respondAReliable sends a provisional to a caller that offered 100rel,
// with Require: 100rel and the next RSeq. Only one may be unacknowledged
// at a time (§3): a later one waits for the PRACK, replacing an earlier
// waiting one.
func (c *Call) respondAReliable(code int, body []byte) {
	if c.prov != nil {
		c.provNext = &provisional{code: code, body: body}
		return
	}
	if c.a.LocalRSeq == 0 {
		// §3: the first RSeq is random, between 1 and 2**31 - 1.
		n, _ := strconv.ParseUint(c.host.newTag()[:7], 16, 32)
		c.a.LocalRSeq = uint32(n) + 1
	} else {
		c.a.LocalRSeq++
	}
	res := c.callerResponse(code, body)
	res.AppendHeader(sip.NewHeader("Require", optionTag100rel))
	res.AppendHeader(sip.NewHeader("RSeq", strconv.FormatUint(uint64(c.a.LocalRSeq), 10)))
	if err := c.aTx.Respond(res); err != nil {
		c.log.Debug("respond to caller failed", "leg", "a", "code", code, "error", err)
	}
	c.prov = &reliable1xx{res: res, rseq: c.a.LocalRSeq, sdp: len(body) > 0, interval: sip.T1, deadline: c.now().Add(64 * sip.T1)}
	if sip.IsReliable(c.a.Transport) {
		c.prov.interval = 64 * sip.T1 // no retransmission; still wait for the PRACK
	}
	c.arm(timerReliable1xx, c.prov.interval)
}

// stopReliable forgets the unacknowledged reliable provisional.
func (c *Call) stopReliable() {
	c.prov, c.provNext = nil, nil
	c.disarm(timerReliable1xx)
}

// onReliableTimer retransmits the reliable provisional or, after 64·T1
// without PRACK, rejects the caller's INVITE with a 5xx (§3).
func (c *Call) onReliableTimer() {
	p := c.prov
	if p == nil || c.state == stateEnded {
		return
	}
	if !c.now().Before(p.deadline) {
		c.log.Info("no PRACK for reliable provisional", "leg", "a", "rseq", p.rseq)
		c.stopReliable()
		if c.deferred != nil {
			// The callee answered meanwhile: it gets a BYE.
			c.deferred = nil
			c.rec.Answer = time.Time{}
			if c.b != nil {
				c.sendBye(c.b)
			}
		}
		c.cancelForks(nil)
		c.respondA(504, nil)
		c.end(504, cdr.HangupSwitchboard, "no PRACK", cdr.Failed)
		return
	}
	if err := c.sip.writeResponse(p.res); err != nil {
		c.log.Debug("reliable provisional retransmit failed", "leg", "a", "error", err)
	}
	p.interval *= 2 // §3: doubling, not capped at T2
	c.arm(timerReliable1xx, p.interval)
}

// onPrack answers a PRACK from the caller (RFC 3262 §3): 200 when its RAck
// names the unacknowledged reliable provisional, 481 otherwise. Then the
// next waiting provisional or the deferred 2xx goes out.
func (c *Call) onPrack(e *evRequest, leg *Leg) {
	p := c.prov
	rseq, cseq, method, ok := parseRAck(e.req)
	if leg != c.a || p == nil || !ok || rseq != p.rseq || cseq != c.aReq.CSeq().SeqNo || method != string(sip.INVITE) {
		c.answer(e, 481, nil)
		return
	}
	if len(e.req.Body()) > 0 {
		// Our reliable provisionals carry answers, never offers: an offer
		// in a PRACK would start a negotiation the other leg cannot see
		// (RFC 6337 §3.1 advises UPDATE instead).
		c.answer(e, 488, nil)
		return
	}
	c.stopReliable()
	next := c.provNext
	c.provNext = nil
	c.answer(e, 200, nil)
	if d := c.deferred; d != nil {
		c.deferred = nil
		c.respondA(d.code, d.body)
		return
	}
	if next != nil && c.state == stateEarly {
		c.respondA(next.code, next.body)
	}
}

// parseRAck reads "RAck: rseq cseq method" (RFC 3262 §7.2).
func parseRAck(req *sip.Request) (rseq, cseq uint32, method string, ok bool) {
	h := req.GetHeader("RAck")
	if h == nil {
		return 0, 0, "", false
	}
	f := strings.Fields(h.Value())
	if len(f) != 3 {
		return 0, 0, "", false
	}
	r, err1 := strconv.ParseUint(f[0], 10, 32)
	s, err2 := strconv.ParseUint(f[1], 10, 32)
	if err1 != nil || err2 != nil || r == 0 {
		return 0, 0, "", false
	}
	return uint32(r), uint32(s), strings.ToUpper(f[2]), true
}

// prackFork acknowledges a callee's reliable provisional (RFC 3262 §4):
// a PRACK in the early dialog the 18x created, RAck naming its RSeq and
// our INVITE's CSeq. It reports whether the response is new; a
// retransmission (RSeq not above the last one) is dropped.
func (c *Call) prackFork(out *outTx, res *sip.Response) bool {
	h := res.GetHeader("RSeq")
	if h == nil {
		return true // §4: without RSeq it is not reliable; treat as plain
	}
	rseq, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
	if err != nil || rseq == 0 {
		return true
	}
	if out.rseq != 0 && uint32(rseq) <= out.rseq {
		return false // a retransmission, or older than one already PRACKed
	}
	out.rseq = uint32(rseq)
	leg := out.leg
	if tag := tagOf(res.To().Params); tag != "" {
		leg.RemoteTag = tag
	}
	// The early dialog's route set and target (RFC 3261 §12.1.2).
	leg.RouteSet = routeSetFromRecordRoute(res, true)
	leg.setRemoteTargetFrom(res)
	req := leg.newRequest(c.host, sip.PRACK)
	req.AppendHeader(sip.NewHeader("RAck", strconv.FormatUint(rseq, 10)+" "+strconv.FormatUint(uint64(out.req.CSeq().SeqNo), 10)+" INVITE"))
	req.SetBody(nil)
	if err := c.send(&outTx{method: sip.PRACK, leg: leg, req: req}); err != nil {
		c.log.Debug("PRACK failed", "leg", "b", "error", err)
	}
	return true
}
