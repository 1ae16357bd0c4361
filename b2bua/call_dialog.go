package b2bua

import (
	"context"
	"log/slog"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
)

// ---- in-dialog requests ----

// legFor finds which leg an in-dialog request arrived on.
func (c *Call) legFor(key string, req *sip.Request) *Leg {
	if c.a != nil && key == c.a.matchKey() {
		return c.a
	}
	if c.b != nil && key == c.b.matchKey() && tagOf(req.From().Params) == c.b.RemoteTag {
		return c.b
	}
	return nil
}

func (c *Call) other(l *Leg) *Leg {
	if l == c.a {
		return c.b
	}
	return c.a
}

// legName names the leg an in-dialog request arrived on, for logs.
func (c *Call) legName(e *evRequest) string {
	if l := c.legFor(e.key, e.req); l != nil {
		return l.Name
	}
	return "?"
}

// answer responds to an in-dialog request and releases its handler.
func (c *Call) answer(e *evRequest, code int, body []byte) *sip.Response {
	res := c.host.response(e.req, code, "", body)
	if code >= 200 && code < 300 && e.req.IsInvite() {
		leg := c.legFor(e.key, e.req)
		if leg != nil {
			res.AppendHeader(&sip.ContactHeader{Address: *leg.Contact.Clone()})
			c.sessionRefreshed(leg, e.req, res)
		}
	} else if code >= 200 && code < 300 && e.req.Method == sip.UPDATE {
		if leg := c.legFor(e.key, e.req); leg != nil {
			c.sessionRefreshed(leg, e.req, res)
		}
	}
	if err := e.tx.Respond(res); err != nil {
		c.log.Debug("respond failed", "leg", c.legName(e), "method", e.req.Method, "error", err)
	}
	if code >= 200 {
		close(e.done)
	}
	return res
}

func (c *Call) onRequest(e evRequest) {
	leg := c.legFor(e.key, e.req)
	if c.log.Enabled(context.Background(), slog.LevelDebug) {
		name := "?"
		if leg != nil {
			name = leg.Name
		}
		c.log.Debug("in-dialog request", "method", e.req.Method, "leg", name, "cseq", e.req.CSeq().SeqNo)
	}
	if e.req.Method == sip.BYE && c.onTransferorBye(&e) {
		return // call_refer.go
	}
	if leg == nil || c.state == stateEnded {
		c.answer(&e, 481, nil)
		return
	}
	// CSeq must grow within a dialog (RFC 3261 §12.2.2).
	if cs := e.req.CSeq(); cs != nil {
		if leg.RemoteCSeq != 0 && cs.SeqNo <= leg.RemoteCSeq && e.req.Method != sip.ACK {
			c.answer(&e, 500, nil)
			return
		}
		leg.RemoteCSeq = cs.SeqNo
	}
	switch e.req.Method {
	case sip.BYE:
		c.answer(&e, 200, nil)
		side := cdr.HangupCaller
		if leg == c.b {
			side = cdr.HangupCallee
		}
		c.noteReason(side, e.req) // relayed on our BYE or CANCEL
		if c.state == stateEarly {
			c.cancelForks(nil)
			c.fail(487, side, "caller hung up in early dialog", cdr.Cancelled)
			return
		}
		c.hangup(leg, side, "bye")
	case sip.INVITE:
		c.onReinvite(&e, leg)
	case sip.INFO:
		c.onInfo(&e, leg)
	case sip.PRACK:
		c.onPrack(&e, leg)
	case sip.UPDATE:
		c.onUpdate(&e, leg)
	case sip.REFER:
		c.onRefer(&e, leg)
	default:
		c.answer(&e, 501, nil)
	}
}

// relay forwards an in-dialog non-INVITE request (INFO) to the other leg.
func (c *Call) relay(e *evRequest, from *Leg) {
	to := c.other(from)
	if to == nil || !c.state.up() {
		c.answer(e, 491, nil)
		return
	}
	req := to.newRequest(c.host, e.req.Method)
	if ct := e.req.ContentType(); ct != nil {
		req.AppendHeader(sip.NewHeader("Content-Type", ct.Value()))
	}
	req.SetBody(e.req.Body())
	out := &outTx{method: e.req.Method, leg: to, req: req, origin: e}
	if err := c.send(out); err != nil {
		c.answer(e, 500, nil)
	}
}

// onReinvite relays a re-INVITE: a new offer from one side becomes our
// offer to the other (SDP rewritten, our ports kept), and their answer
// comes back rewritten (RFC 3261 §14).

// onUpdate answers an UPDATE (RFC 3311) in an early or confirmed dialog.
// Without a body it is a target refresh or a session refresh (RFC 4028)
// and gets 200 with the session in force unchanged. An offer in an UPDATE
// is not relayed yet: it is refused with 488 and the session stays as it
// was (§5.2); during another negotiation it is glare (491).
func (c *Call) onUpdate(e *evRequest, from *Leg) {
	if c.offer == offerRelaying || c.prov != nil && len(e.req.Body()) > 0 {
		c.answer(e, 491, nil)
		return
	}
	if len(e.req.Body()) > 0 {
		c.answer(e, 488, nil)
		return
	}
	from.setRemoteTargetFrom(e.req) // UPDATE is a target refresh request (§5.1)
	c.answer(e, 200, nil)
}
