package b2bua

import (
	"net/netip"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/guard"
)

// admitFraud applies a user's toll-fraud limits (package guard) to the
// call being started: a destination class the user is not allowed, or a
// user over users[].max_calls or users[].calls_per_hour, gets 403 with a
// Warning (RFC 3261 §20.43) naming the reason, and the CDR records it as
// hangup_reason. Trunk callers are not limited here. False means the call
// has ended.
func (c *Call) admitFraud(pol *policy) bool {
	if c.fromTrunk != nil || pol.guard == nil {
		return true
	}
	u := pol.users[c.caller]
	maxCalls, perHour := pol.cfg.Security.EffectiveLimits(&u.Limits)
	var src netip.Addr
	if ap, err := netip.ParseAddrPort(c.aReq.Source()); err == nil {
		src = ap.Addr().Unmap()
	}
	release, refused := pol.guard.Fraud.Admit(c.caller, src, c.aReq.Recipient.User, guard.Limits{
		MaxCalls: maxCalls, CallsPerHour: perHour, Allow: u.Limits.Allow,
	})
	if refused != nil {
		c.warning = refused.Reason
		c.fail(403, cdr.HangupSwitchboard, refused.Reason, cdr.Failed)
		return false
	}
	c.fraudRelease = release
	return true
}
