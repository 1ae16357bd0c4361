package b2bua

import (
	"fmt"
	"io"
	"net/netip"
	"os"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/guard"
)

// Attack protection (package guard) as the server applies it:
//
//	UDP request ─► read filter: guard.AdmitSource(source), before parsing
//	                   over rate ─► dropped (a flood costs a lookup, not a parse)
//	every request ─► admit: guard.Admit(source, User-Agent) (UDP: AdmitAgent)
//	                   scanner ─► dropped, no answer (any transport)
//	                   over rate ─► TCP: 503 (RFC 3261 §21.5.4)
//	digest (auth) ─► guard.Bans through auth.Limiter (registrar and INVITE alike)
//	user's INVITE ─► Call.admitFraud (call_guard.go)

// newGuard builds the guard from the validated configuration; events go to
// security.log, or to standard error when it is empty.
func newGuard(cfg *config.Config) (*guard.Guard, io.Closer, error) {
	var w io.Writer = os.Stderr
	var closer io.Closer = nopCloser{}
	if p := cfg.Security.Log; p != "" {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, nil, fmt.Errorf("security.log: %w", err)
		}
		w, closer = f, f
	}
	return guard.New(guardConfig(cfg), nil, guard.NewEvents(w, nil)), closer, nil
}

// guardConfig translates config.Security (and the trunks' trusted ranges)
// into guard.Config.
func guardConfig(cfg *config.Config) guard.Config {
	s := &cfg.Security
	g := guard.Config{
		Bans: guard.BanConfig{
			Failures:     s.AuthFailures,
			UserFailures: max(s.UserFailures, 0),
			Window:       s.Window,
			Ban:          s.Ban,
			BanMax:       s.BanMax,
		},
		Rate:           guard.RateConfig{Rate: s.Rate, Burst: s.Burst},
		DropUserAgents: s.DropUserAgents,
		Trusted:        append([]netip.Prefix(nil), s.TrustedNets...),
	}
	for _, t := range cfg.Trunks {
		g.Trusted = append(g.Trusted, t.TrustedNets...)
	}
	for _, c := range s.Classes {
		g.Classes = append(g.Classes, guard.Class{Name: c.Name, Re: c.Re})
	}
	return g
}

// admit applies the per-request checks; false means the request was
// dropped or answered here.
func (s *Server) admit(req *sip.Request, tx sip.ServerTransaction) bool {
	if s.sec == nil {
		return true
	}
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return true
	}
	ua := ""
	if h := req.GetHeader("User-Agent"); h != nil {
		ua = h.Value()
	}
	v := guard.Pass
	if req.Transport() == "UDP" {
		v = s.sec.AdmitAgent(ap.Addr().Unmap(), ua) // the rate was the read filter's (admitDatagram)
	} else {
		v = s.sec.Admit(ap.Addr().Unmap(), ua)
	}
	switch v {
	case guard.Scanner:
		if tx != nil {
			tx.Terminate()
		}
		return false
	case guard.Limited:
		if tx != nil {
			if req.IsAck() || req.Transport() == "UDP" {
				tx.Terminate()
			} else {
				_ = tx.Respond(s.response(req, 503, "", nil))
			}
		}
		return false
	}
	return true
}

// nopCloser is the closer of standard error (left open).
type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// admitDatagram is the read filter's rate check of a UDP request (before
// sipgo parses it); false: over the rate, drop it.
func (s *Server) admitDatagram(info sip.TransportReadProps) bool {
	if s.sec == nil || info.Transport != "UDP" {
		return true
	}
	ap := addrPortOf(info.RemoteAddr)
	if !ap.IsValid() {
		return true
	}
	return s.sec.AdmitSource(ap.Addr().Unmap())
}
