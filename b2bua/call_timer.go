package b2bua

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/media"
)

// Session timers (RFC 4028), each leg on its own:
//
//	leg A (we are UAS): caller's Session-Expires < calls.min_se ─► 422 + Min-SE (§8.1)
//	                    2xx carries Session-Expires;refresher=uac|uas (+ Require: timer
//	                    when the caller supports timer), §9
//	leg B (we are UAC): INVITE with Supported: timer, Session-Expires, Min-SE (§7.1);
//	                    422 ─► the INVITE once more with the callee's Min-SE (§7.3);
//	                    the callee's 2xx names the refresher (§7.2)
//
//	  we refresh ──interval/2──► UPDATE (peer allows it) or re-INVITE with our SDP
//	                              2xx: rearmed; 408/481/no answer: BYE both legs (§10)
//	  peer refreshes ──interval − min(32 s, interval/3) without a refresh──►
//	                              BYE both legs, one CDR (§10)
//
// A refresh is a 2xx Switchboard sends to a re-INVITE or UPDATE on the
// leg (answer adds the leg's Session-Expires to it), or the 2xx to our own.

// sessionTimer is one leg's negotiated session timer.
type sessionTimer struct {
	// interval is the session interval; 0: no timer on the leg.
	interval time.Duration
	// weRefresh: Switchboard sends the refreshes on this leg.
	weRefresh bool
	// supported: the peer listed the timer option tag (it may get
	// Require: timer).
	supported bool
	// update: the peer allows UPDATE, which refreshes without SDP.
	update bool
	// deadline is when the session expires unless refreshed.
	deadline time.Time
}

// causeTimerExpiry is Q.850 cause 102 "Recovery on timer expiry": the
// Reason on the BYEs of a session that was not refreshed.
const causeTimerExpiry = 102

const optionTagTimer = "timer"

// sessionHeaders are the header names (lower case: sipgo looks them up
// without allocating) and compact form (RFC 4028 §4) of Session-Expires.
const (
	hdrSessionExpires = "session-expires"
	hdrSessionCompact = "x"
	hdrMinSE          = "min-se"
)

// sessionOf is leg l's timer and the timer kind that runs it.
func (c *Call) sessionOf(l *Leg) (*sessionTimer, timerKind) {
	if l == c.a {
		return &c.sessA, timerSessionA
	}
	return &c.sessB, timerSessionB
}

type headerGetter interface{ GetHeader(string) sip.Header }

// sessionExpires parses a message's Session-Expires (RFC 4028 §4):
// "90;refresher=uac". ok is false when it has none or it does not parse.
func sessionExpires(m headerGetter) (secs int, refresher string, ok bool) {
	h := m.GetHeader(hdrSessionExpires)
	if h == nil {
		if h = m.GetHeader(hdrSessionCompact); h == nil {
			return 0, "", false
		}
	}
	v, params, _ := strings.Cut(h.Value(), ";")
	secs, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || secs <= 0 {
		return 0, "", false
	}
	for _, p := range strings.Split(params, ";") {
		if k, val, _ := strings.Cut(p, "="); strings.EqualFold(strings.TrimSpace(k), "refresher") {
			refresher = strings.ToLower(strings.TrimSpace(val))
		}
	}
	return secs, refresher, true
}

// minSE is a message's Min-SE in seconds (0 when absent).
func minSE(m headerGetter) int {
	if h := m.GetHeader(hdrMinSE); h != nil {
		v, _, _ := strings.Cut(h.Value(), ";")
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

// timerConfig is the session timer configuration in force (the defaults
// for a call without a policy, as in unit tests).
func (c *Call) timerConfig() config.Calls {
	if p := c.host.currentPolicy(); p != nil {
		return p.cfg.Calls
	}
	return config.Calls{SessionExpires: config.DefaultSessionExpires, MinSE: config.DefaultMinSE}
}

func wholeSeconds(d time.Duration) int { return int(d / time.Second) }

// sessionTooSmall answers 422 to a caller whose Session-Expires is below
// calls.min_se (RFC 4028 §8.1) and ends the call; false otherwise.
func (c *Call) sessionTooSmall() bool {
	se, _, ok := sessionExpires(c.aReq)
	if !ok || se >= wholeSeconds(c.timerConfig().MinSE) {
		return false
	}
	c.fail(422, cdr.HangupSwitchboard, "session interval too small", cdr.Failed)
	return true
}

// sessionAnswerA negotiates leg A's timer into the 2xx to the caller's
// INVITE (RFC 4028 §9): the caller's interval (no longer than ours, no
// shorter than either Min-SE), its refresher when it named one, else the
// caller when it supports timers and Switchboard when it does not.
func (c *Call) sessionAnswerA(res *sip.Response) {
	cfg := c.timerConfig()
	supported := hasOptionTag(c.aReq, "Supported", optionTagTimer) || hasOptionTag(c.aReq, "Require", optionTagTimer)
	se, refresher, ok := sessionExpires(c.aReq)
	if !ok {
		if !supported {
			return // no timer asked for, and the caller could not refresh
		}
		se = wholeSeconds(cfg.SessionExpires)
	}
	se = max(min(se, wholeSeconds(cfg.SessionExpires)), wholeSeconds(cfg.MinSE), minSE(c.aReq))
	if refresher != "uac" && refresher != "uas" || !supported {
		refresher = "uac"
		if !supported {
			refresher = "uas" // §9: a caller without timer support cannot refresh
		}
	}
	c.sessA = sessionTimer{interval: time.Duration(se) * time.Second, weRefresh: refresher == "uas",
		supported: supported, update: hasOptionTag(c.aReq, "Allow", "UPDATE")}
	addSessionHeaders(res, se, refresher, supported)
	c.armSession(c.a)
}

// sessionOfferB puts our timer on a fork's INVITE (RFC 4028 §7.1).
func (c *Call) sessionOfferB(req *sip.Request, se int) {
	v := offerValues.Load()
	if m := wholeSeconds(c.timerConfig().MinSE); v == nil || v.se != se || v.minSE != m {
		v = &timerOffer{se: se, minSE: m, seText: strconv.Itoa(se), minText: strconv.Itoa(m)}
		offerValues.Store(v)
	}
	req.AppendHeader(sip.NewHeader("Session-Expires", v.seText))
	req.AppendHeader(sip.NewHeader("Min-SE", v.minText))
}

// timerOffer is the text of the values every fork's INVITE offers, kept
// so that a call formats no numbers (the configuration changes only on
// SIGHUP).
type timerOffer struct {
	se, minSE       int
	seText, minText string
}

var offerValues atomic.Pointer[timerOffer]

// sessionAnsweredB takes leg B's timer from the callee's 2xx (RFC 4028
// §7.2): none when the 2xx has no Session-Expires.
func (c *Call) sessionAnsweredB(res *sip.Response) {
	se, refresher, ok := sessionExpires(res)
	if !ok {
		return
	}
	c.sessB = sessionTimer{interval: time.Duration(se) * time.Second, weRefresh: refresher != "uas",
		supported: hasOptionTag(res, "Require", optionTagTimer) || hasOptionTag(res, "Supported", optionTagTimer),
		update:    hasOptionTag(res, "Allow", "UPDATE")}
	c.armSession(c.b)
}

// retry422 sends a fork's INVITE once more after 422 with the callee's
// Min-SE as the interval (RFC 4028 §7.3); false when it cannot.
func (c *Call) retry422(out *outTx, res *sip.Response) bool {
	se := minSE(res)
	if se == 0 || out.retried {
		return false
	}
	req := out.req.Clone()
	req.CSeq().SeqNo = out.leg.nextCSeq()
	req.ReplaceHeader(c.host.newVia(out.leg.Transport, out.leg.Laddr))
	req.RemoveHeader("Session-Expires")
	req.RemoveHeader("Min-SE")
	req.AppendHeader(sip.NewHeader("Session-Expires", strconv.Itoa(se)))
	req.AppendHeader(sip.NewHeader("Min-SE", strconv.Itoa(se)))
	retry := &outTx{method: sip.INVITE, leg: out.leg, req: req, fork: true, offer: out.offer, retried: true}
	if err := c.send(retry); err != nil {
		c.log.Info("422 retry failed", "leg", "b", "error", err)
		return false
	}
	c.log.Debug("422: INVITE again", "leg", "b", "session_expires", se)
	return true
}

func addSessionHeaders(m interface{ AppendHeader(sip.Header) }, se int, refresher string, require bool) {
	m.AppendHeader(sip.NewHeader("Session-Expires", strconv.Itoa(se)+";refresher="+refresher))
	if require {
		m.AppendHeader(sip.NewHeader("Require", optionTagTimer))
	}
}

// armSession starts leg l's next refresh (we refresh: half the interval,
// §7.4) or its expiry (the peer refreshes: the interval less the smaller
// of 32 s and a third of it, §10).
func (c *Call) armSession(l *Leg) {
	st, kind := c.sessionOf(l)
	if st.interval == 0 || l == nil {
		return
	}
	st.deadline = c.now().Add(st.interval)
	if st.weRefresh {
		c.arm(kind, st.interval/2)
		return
	}
	c.arm(kind, st.interval-min(32*time.Second, st.interval/3))
}

// sessionRefreshed: a 2xx to a re-INVITE or UPDATE from leg l's peer is
// a refresh (§9); it carries the leg's Session-Expires, and the timer
// starts again (with the request's new interval, if it asked one).
func (c *Call) sessionRefreshed(l *Leg, req *sip.Request, res *sip.Response) {
	st, _ := c.sessionOf(l)
	if st.interval == 0 {
		return
	}
	se := wholeSeconds(st.interval)
	if s, r, ok := sessionExpires(req); ok {
		se = max(s, wholeSeconds(c.timerConfig().MinSE))
		if r == "uac" || r == "uas" {
			st.weRefresh = r == "uas" // the request's sender is the UAC
		}
		st.interval = time.Duration(se) * time.Second
	}
	refresher := "uac"
	if st.weRefresh {
		refresher = "uas"
	}
	addSessionHeaders(res, se, refresher, st.supported && hasOptionTag(req, "Supported", optionTagTimer))
	c.armSession(l)
}

// onSessionTimer: time to refresh leg l, or its session has expired.
func (c *Call) onSessionTimer(l *Leg) {
	if !c.state.up() || l == nil {
		return
	}
	st, _ := c.sessionOf(l)
	if !st.weRefresh {
		c.log.Info("session timer expired", "leg", l.Name, "session_expires", st.interval)
		c.sessionLost("session timer expired")
		return
	}
	method := sip.INVITE
	if st.update {
		method = sip.UPDATE
	}
	req := l.newRequest(c.host, method)
	req.AppendHeader(sip.NewHeader("Supported", optionTagTimer))
	req.AppendHeader(sip.NewHeader("Session-Expires", strconv.Itoa(wholeSeconds(st.interval))+";refresher=uac"))
	if method == sip.INVITE {
		// A re-INVITE refresh offers the session in force again.
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(l.Session.Build(l.Endpoint.Local(), l.Codecs, c.legDirection(l), c.ptime))
	} else {
		req.SetBody(nil)
	}
	if err := c.send(&outTx{method: method, leg: l, req: req, refresh: true}); err != nil {
		c.log.Info("session refresh not sent", "leg", l.Name, "error", err)
		c.sessionLost("session refresh failed")
	}
}

// legDirection is the direction attribute in force towards leg l: what
// the other leg last offered or answered.
func (c *Call) legDirection(l *Leg) media.Direction {
	if l == c.a {
		return c.aAnswerDir()
	}
	return c.a.Direction
}

// onRefreshFinal: the answer to our refresh on out.leg (§10): a 2xx
// starts the next interval; 408, 481 or no answer end the call; another
// failure is retried while the session lasts.
func (c *Call) onRefreshFinal(out *outTx, code int) {
	if !c.state.up() {
		return
	}
	l := out.leg
	st, kind := c.sessionOf(l)
	switch {
	case code < 300:
		if out.method == sip.INVITE {
			out.state = outAnswered // a retransmitted 2xx is ACKed again
			c.sendAck(out, nil)
		}
		c.armSession(l)
	case code == 408 || code == 481:
		c.log.Info("session refresh failed", "leg", l.Name, "status", code)
		c.sessionLost("session refresh failed")
	default:
		if left := time.Until(st.deadline); left > 2*time.Second {
			c.arm(kind, left/2)
			return
		}
		c.sessionLost("session refresh failed")
	}
}

// sessionLost ends the call with BYE on both legs (Q.850 102).
func (c *Call) sessionLost(reason string) {
	if c.why.hdr == "" {
		c.why = q850Reason(causeTimerExpiry)
	}
	c.hangup(nil, cdr.HangupSwitchboard, reason)
}
