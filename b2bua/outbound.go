package b2bua

import (
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/registrar"
)

// Reaching a user over its RFC 5626 flows (registrar/outbound.go) and by
// GRUU (RFC 5627, registrar/gruu.go):
//
//	INVITE sip:1002@pbx[;gr=X] ─► Lookup(1002) ─► gr? ForGRUU(X) ─► Reachable(flowAlive)
//	   flowAlive: TCP/TLS flow ─► its connection still in sipgo's pool?
//	                           ─► a keep-alive or REGISTER within Flow-Timer + flowGrace?
//	              UDP/WS flow  ─► yes (UDP: until it expires; WS: ends with its connection)
//
// A dead flow is passed over, so the call takes the instance's next flow;
// the request goes over the flow's connection (dest.addr is its Source),
// never to the Contact, which a phone behind NAT does not listen on.

// flowGrace is how long past its Flow-Timer a stream flow may stay silent
// before it counts as dead (RFC 5626 §4.4.1 lets the UA send its
// keep-alive anywhere in 80-100 % of the interval; a loaded network adds
// delay).
const flowGrace = 10 * time.Second

// flowKeepalives remembers when a CRLF keep-alive last came from each
// stream connection (the read filter sees them before sipgo answers).
type flowKeepalives struct {
	mu   sync.Mutex
	last map[string]time.Time // "TCP 192.0.2.1:40000" → last keep-alive
}

// keepaliveRetention bounds how long a keep-alive is remembered; older
// entries (closed connections) are dropped as new ones come.
const keepaliveRetention = 30 * time.Minute

// heard records a keep-alive from remote over transport at now.
func (k *flowKeepalives) heard(transport, remote string, now time.Time) {
	key := strings.ToUpper(transport) + " " + remote
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.last == nil {
		k.last = map[string]time.Time{}
	}
	if _, ok := k.last[key]; !ok && len(k.last) >= 1024 {
		for kk, t := range k.last {
			if now.Sub(t) > keepaliveRetention {
				delete(k.last, kk)
			}
		}
	}
	k.last[key] = now
}

// at returns when the last keep-alive came from remote over transport.
func (k *flowKeepalives) at(transport, remote string) time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.last[strings.ToUpper(transport)+" "+remote]
}

// flowAlive reports whether a request may be sent over binding b: always
// for a binding that is no flow; for a TCP/TLS flow, while its connection
// is open and it was heard from (REGISTER or keep-alive) within Flow-Timer
// plus flowGrace (RFC 5626 §4.4.1).
func (s *Server) flowAlive(b registrar.Binding) bool {
	if !b.Flow() {
		return true
	}
	tr := strings.ToUpper(b.Transport)
	if tr != "TCP" && tr != "TLS" {
		return true
	}
	if s.ua == nil {
		return false
	}
	if _, err := s.ua.TransportLayer().GetConnection(tr, b.Source); err != nil {
		s.log.Debug("flow dead: connection closed", "user", b.User, "reg_id", b.RegID, "source", b.Source)
		return false
	}
	limit := time.Duration(s.reg.FlowTimer())*time.Second + flowGrace
	if flowSilent(b.Updated, s.flows.at(tr, b.Source), time.Now(), limit) {
		s.log.Info("flow dead: no keep-alive", "user", b.User, "reg_id", b.RegID, "source", b.Source,
			"limit_s", int(limit/time.Second))
		return false
	}
	return true
}

// flowSilent reports whether a flow last refreshed (REGISTER) at updated
// and last pinged at keepalive has been silent at now for longer than
// limit.
func flowSilent(updated, keepalive, now time.Time, limit time.Duration) bool {
	last := updated
	if keepalive.After(last) {
		last = keepalive
	}
	return now.Sub(last) > limit
}

// gruuTarget narrows a user's bindings to the instance a GRUU names when
// the Request-URI carries gr (RFC 5627 §7); bs unchanged otherwise.
func gruuTarget(req *sip.Request, bs []registrar.Binding) []registrar.Binding {
	if req == nil {
		return bs
	}
	if gr, ok := req.Recipient.UriParams.Get("gr"); ok && gr != "" {
		return registrar.ForGRUU(bs, gr)
	}
	return bs
}
