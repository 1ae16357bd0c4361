package b2bua

// Local ringback (tones.local_ringback): a callee that rings (180)
// without early media of its own leaves the caller in silence; with the
// option on, Switchboard answers the caller's offer in a 183 with its own
// SDP and plays the plan's ringback tone (failure_media.go's playEarly)
// until the callee answers, sends its own early media, or fails:
//
//	180 without SDP ─► startRingback: Terminal on leg A, 183 + SDP
//	2xx / failure / callee's early SDP / end ─► stopRingback
//	   (the bridge then takes leg A's endpoint as for any answer)

// startRingback plays local ringback for a 180 without SDP; it reports
// whether the caller has it (then no 180 is sent on).
func (c *Call) startRingback() bool {
	if c.ringback != nil {
		return true
	}
	pol := c.host.currentPolicy()
	if !pol.cfg.Tones.LocalRingback {
		return false
	}
	term, ok := c.playEarly(cadenceOf(pol.cfg.Tones.Tone("ringback")))
	if !ok {
		return false
	}
	c.ringback = term
	c.log.Info("local ringback", "leg", "a")
	return true
}

// stopRingback stops local ringback, if it plays.
func (c *Call) stopRingback() {
	if c.ringback == nil {
		return
	}
	c.ringback.Stop()
	c.ringback = nil
}
