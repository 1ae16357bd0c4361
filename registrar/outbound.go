package registrar

import (
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// SIP Outbound (RFC 5626) at the registrar. A REGISTER whose Contact
// carries +sip.instance and reg-id, with "outbound" in Supported, makes a
// flow (§6): the binding is identified by (instance, reg-id) rather than
// by its Contact URI, and it is reached over the flow the REGISTER came
// on: the connection for TCP/TLS/WS (Source is the connection's remote
// address), the source address and port for UDP. One instance may keep
// several flows (one per reg-id, usually over different connections); a
// request for the user goes to each instance over one live flow only, the
// most recently refreshed one that the caller's liveness check accepts
// (§5.3), so a dead flow is passed over for the next.
//
//	REGISTER Supported: outbound, Contact: <...>;+sip.instance="<urn:uuid:X>";reg-id=1
//	   ─► binding keyed (X, 1), Source/Transport = the flow
//	   ─► 200 OK  Require: outbound, Flow-Timer: N, Contact ...;reg-id=1
//
// Flow-Timer (§4.4.1) tells the UA how often to send keep-alives (CRLF
// ping over a stream, answered by a pong); Switchboard counts a stream
// flow dead once its connection is gone or no keep-alive nor REGISTER came
// on it for Flow-Timer plus FlowGrace (b2bua/outbound.go decides).

// optionOutbound and optionGRUU are the option tags (RFC 5626 §11.4,
// RFC 5627 §10.1).
const (
	optionOutbound = "outbound"
	optionGRUU     = "gruu"
)

// DefaultFlowTimer is the Flow-Timer (seconds) sent when Config.FlowTimer
// is zero: RFC 5626 §4.4.1 suggests 95 to 120 s for stream flows.
const DefaultFlowTimer = 120

// Flow reports whether the binding is an RFC 5626 flow: registered with a
// reg-id by a UA that supports outbound. Requests for it must go over the
// flow (Source over Transport), never to its Contact.
func (b Binding) Flow() bool { return b.RegID != "" }

// FlowTimer is the keep-alive interval, in seconds, that the registrar
// asks of outbound UAs (the Flow-Timer header, RFC 5626 §4.4.1).
func (r *Registrar) FlowTimer() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cfg.FlowTimer
}

// Reachable narrows bs (as Lookup orders them) to what a request for the
// user should be sent to (RFC 5626 §5.3): every binding that is not a
// flow, and for each instance with flows the first of them for which alive
// says yes; flows that are not alive are left out, so a call takes the
// instance's next flow.
func Reachable(bs []Binding, alive func(Binding) bool) []Binding {
	out := make([]Binding, 0, len(bs))
	seen := map[string]bool{}
	for _, b := range bs {
		if !b.Flow() {
			out = append(out, b)
			continue
		}
		if seen[b.Instance] || (alive != nil && !alive(b)) {
			continue
		}
		seen[b.Instance] = true
		out = append(out, b)
	}
	return out
}

// supports reports whether the request lists tag in Supported (or k).
func supports(req *sip.Request, tag string) bool {
	for _, name := range []string{"Supported", "k"} {
		for _, h := range req.GetHeaders(name) {
			for _, t := range strings.Split(h.Value(), ",") {
				if strings.EqualFold(strings.TrimSpace(t), tag) {
					return true
				}
			}
		}
	}
	return false
}

// regID returns the contact's reg-id when the REGISTER uses outbound
// (RFC 5626 §6: Supported: outbound, +sip.instance and a reg-id, a
// positive integer); "" otherwise, and an error for a malformed reg-id.
func regID(c *sip.ContactHeader, outbound bool, instance string) (string, *regError) {
	v, ok := c.Params.Get("reg-id")
	if !ok || !outbound || instance == "" {
		return "", nil
	}
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 31)
	if err != nil || n == 0 {
		return "", fail(400, "Bad reg-id")
	}
	return strconv.FormatUint(n, 10), nil
}

// outboundHeaders adds what a 200 to a REGISTER that made or refreshed a
// flow carries (RFC 5626 §6): Require: outbound and Flow-Timer.
func outboundHeaders(res *sip.Response, flowTimer int, used bool) {
	if !used {
		return
	}
	res.AppendHeader(sip.NewHeader("Require", optionOutbound))
	res.AppendHeader(sip.NewHeader("Flow-Timer", strconv.Itoa(flowTimer)))
}
