package b2bua

import "github.com/switchboard/switchboard/cdr"

// joinConference wires a to: conference call's terminal to its room; it
// reports false after failing the call.
func (c *Call) joinConference(svc *service) bool {
	c.fail(501, cdr.HangupSwitchboard, "conference not available", cdr.Failed)
	return false
}
