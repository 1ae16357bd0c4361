package registrar

import "strings"

// Connection-bound bindings (RFC 7118 §5): a browser registers over its
// WebSocket with a Contact host of its own making ("*.invalid") that no one
// can resolve or connect to. Its binding is usable only through the
// connection it came on: requests for the user go to the binding's Source
// over that connection, and the binding ends when the connection closes
// (DropConnection). Such bindings are not restored from the state file at
// start: their connection did not survive the restart.

// ConnectionBound reports whether the binding can be reached only over the
// connection it registered on: it came over WebSocket (WS or WSS).
func (b Binding) ConnectionBound() bool {
	return IsWebSocket(b.Transport)
}

// IsWebSocket reports whether transport (a SIP Via transport, any case) is
// SIP over WebSocket (RFC 7118 §5: WS or WSS).
func IsWebSocket(transport string) bool {
	return strings.EqualFold(transport, "WS") || strings.EqualFold(transport, "WSS")
}

// DropConnection removes every connection-bound binding registered over
// the connection from source (ip:port) on transport; it reports how many.
// Switchboard calls it when a WebSocket closes.
func (r *Registrar) DropConnection(transport, source string) int {
	return r.remove("binding ended with its connection", func(b Binding) bool {
		return b.ConnectionBound() && strings.EqualFold(b.Transport, transport) && b.Source == source
	})
}
