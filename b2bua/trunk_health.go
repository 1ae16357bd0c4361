package b2bua

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/sipdns"
)

// Trunk health (issue 13, item 4): OPTIONS pings per trunk.
//
//	every ping_interval, per trunk with one:
//	  destinations (resolved as a call would) ──OPTIONS──► any response: up
//	                                           └─ none within the timeout: down
//	  destination down ─► held down in the trunk's sipdns.Targets (calls try it last)
//	  destination up   ─► hold-down lifted
//	  no destination up ─► trunk down: Router.Route passes over its routes
//	                       to the next matching one (a backup trunk)
//
// Transitions are logged ("trunk down", "trunk up", and per destination).
// One goroutine per pinged trunk; the Server owns them and stops them at
// reload (the new configuration's trunks get their own) and at Close.

// trunkHealth is a trunk's health check state.
type trunkHealth struct {
	interval time.Duration
	timeout  time.Duration
	// down: no destination answered the last round of pings.
	down atomic.Bool
}

// newTrunkHealth returns a trunk's health check state, nil without
// ping_interval. A ping waits min(failover_timeout, ping_interval).
func newTrunkHealth(tc config.Trunk) *trunkHealth {
	iv := tc.Health.PingInterval
	if iv <= 0 {
		return nil
	}
	timeout := tc.Failover.FailoverTimeout
	if timeout <= 0 || timeout > iv {
		timeout = iv
	}
	return &trunkHealth{interval: iv, timeout: timeout}
}

// isDown reports whether health checks found the trunk down.
func (t *Trunk) isDown() bool { return t.health != nil && t.health.down.Load() }

// healthChecks are the running pingers of one configuration.
type healthChecks struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

// startHealth starts a pinger for each trunk of r with a ping_interval,
// and a registration loop for each with register:, stopping those of the
// previous configuration.
func (s *Server) startHealth(r *Router) {
	s.stopHealth()
	h := &healthChecks{stop: make(chan struct{})}
	for _, t := range r.trunks {
		if t.health != nil {
			h.wg.Add(1)
			go func() {
				defer h.wg.Done()
				s.pingLoop(t, h.stop)
			}()
		}
		if t.reg != nil { // outbound registration (trunk_register.go)
			h.wg.Add(1)
			go func() {
				defer h.wg.Done()
				s.registerLoop(t, h.stop)
			}()
		}
	}
	s.healthMu.Lock()
	s.healthRun = h
	s.healthMu.Unlock()
}

// stopHealth stops the running pingers and returns them (nil when none):
// they end within one ping timeout; wait on their wg for that.
func (s *Server) stopHealth() *healthChecks {
	s.healthMu.Lock()
	h := s.healthRun
	s.healthRun = nil
	s.healthMu.Unlock()
	if h != nil {
		close(h.stop)
	}
	return h
}

// pingLoop pings a trunk's destinations every interval until stop.
func (s *Server) pingLoop(t *Trunk, stop chan struct{}) {
	log := s.log.With("component", "trunk-health", "trunk", t.Name)
	destUp := map[string]bool{}
	tick := time.NewTicker(t.health.interval)
	defer tick.Stop()
	for {
		// The first round waits one interval: the listeners are bound
		// after the configuration is provisioned.
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		s.pingRound(t, log, destUp)
	}
}

// pingTarget is one destination of a trunk to ping.
type pingTarget struct {
	transport, dest string
	// target is the resolved target (zero for a trunk by IP address,
	// which has no hold-down list).
	target sipdns.Target
}

// pingRound pings each destination once and records what answered.
func (s *Server) pingRound(t *Trunk, log *slog.Logger, destUp map[string]bool) {
	var targets []pingTarget
	if t.dns != nil {
		all, err := resolveTrunk(s.policy.Load().router, t, s, log)
		if err != nil {
			log.Info("trunk destinations not resolved", "error", err)
		}
		for _, tg := range all {
			targets = append(targets, pingTarget{transport: transportName(tg.Transport), dest: tg.Addr.String(), target: tg})
		}
	} else if tr, dest, err := t.route(time.Now(), hasTLS(s)); err == nil {
		targets = append(targets, pingTarget{transport: tr, dest: dest})
	}
	anyUp := false
	for _, pt := range targets {
		err := s.ping(t, pt)
		up := err == nil
		anyUp = anyUp || up
		key := pt.transport + " " + pt.dest
		if was, seen := destUp[key]; !seen || was != up {
			if up {
				log.Info("trunk destination up", "destination", key)
			} else {
				log.Warn("trunk destination down", "destination", key, "error", err)
			}
		}
		destUp[key] = up
		if t.dns != nil {
			if up {
				t.dns.targets.Restore(pt.target)
			} else {
				t.dns.targets.Avoid(pt.target, time.Now().Add(2*t.health.interval))
			}
		}
	}
	if was := t.health.down.Swap(!anyUp); was != !anyUp {
		if anyUp {
			log.Info("trunk up")
		} else {
			log.Warn("trunk down", "destinations", len(targets))
		}
	}
}

// errNoAnswer: a ping drew no response within its timeout.
var errNoAnswer = errors.New("no response to OPTIONS")

// ping sends one OPTIONS to a trunk destination (RFC 3261 §11) and waits
// for any response: whatever its status, the peer is alive.
func (s *Server) ping(t *Trunk, pt pingTarget) error {
	l, ok := s.listenerFor(pt.transport, pt.dest)
	if !ok {
		return errNoListener
	}
	ruri := *t.URI.Clone()
	ruri.User = ""
	from := sip.Uri{Scheme: "sip", User: "switchboard", Host: s.domain}
	req := s.standalone(sip.OPTIONS, ruri, from, ruri, s.newCallID()+"@"+s.domain, s.newTag(), 1, pt.transport, pt.dest, l, contactFor(l))
	ctx, cancel := context.WithTimeout(context.Background(), t.health.timeout)
	defer cancel()
	tx, err := s.sender.request(ctx, req)
	if err != nil {
		return err
	}
	defer tx.Terminate()
	select {
	case <-tx.Responses():
		return nil
	case <-tx.Done():
		if err := tx.Err(); err != nil {
			return err
		}
		return errNoAnswer
	case <-ctx.Done():
		return errNoAnswer
	}
}

// trunkStates is each trunk's health for the operations API.
func (s *Server) trunkStates() map[string]string {
	p := s.policy.Load()
	if p == nil {
		return nil
	}
	out := make(map[string]string, len(p.router.trunks))
	for _, t := range p.router.trunks {
		switch {
		case t.health == nil:
			out[t.Name] = "unchecked"
		case t.isDown():
			out[t.Name] = "down"
		default:
			out[t.Name] = "up"
		}
		if t.reg != nil {
			out[t.Name] += ", " + t.reg.status()
		}
	}
	return out
}

// standalone builds a request Switchboard sends outside any call (an
// OPTIONS ping, a REGISTER): a fresh Via on listener l, From with
// fromTag, To without tag, and the transport and destination set; the
// caller adds what its method needs.
func (s *Server) standalone(method sip.RequestMethod, ruri, from, to sip.Uri, callID, fromTag string, cseq uint32, transport, dest string, l listener, contact sip.Uri) *sip.Request {
	req := sip.NewRequest(method, ruri)
	req.AppendHeader(s.newVia(transport, sipAddr(l.addr)))
	fh := &sip.FromHeader{Address: from, Params: sip.NewParams()}
	fh.Params.Add("tag", fromTag)
	req.AppendHeader(fh)
	req.AppendHeader(&sip.ToHeader{Address: to, Params: sip.NewParams()})
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.AppendHeader(&sip.ContactHeader{Address: contact})
	req.AppendHeader(sip.NewHeader("User-Agent", s.userAgent))
	req.SetBody(nil)
	req.SetTransport(transport)
	req.SetDestination(dest)
	if strings.EqualFold(transport, "UDP") {
		la := sipAddr(l.addr)
		la.Copy(&req.Laddr)
	}
	return req
}
