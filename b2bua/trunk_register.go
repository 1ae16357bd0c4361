package b2bua

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/switchboard/switchboard/config"
)

// Outbound registration (issue 13, item 4): a trunk with register:
// registers with its carrier (RFC 3261 §10) and takes the carrier's calls
// on the registered contact.
//
//	start ──► REGISTER sip:<trunk host> To/From sip:USER@<trunk host>
//	          Contact <sip:USER@our listener>  Expires: register.expires
//	  401/407 ──► once more with Authorization / Proxy-Authorization
//	              (digest, github.com/icholy/digest: MD5, SHA-256)
//	  2xx ──► registered ──► refresh at half the interval granted
//	  else ──► failed ──► retry after a backoff: 1 s, 2 s, 4 s ... 5 min
//
//	register.gin (RFC 6140): Contact <sip:our listener;bnc>, no user
//	  part, with Require: gin and Proxy-Require: gin (ginContact)
//
//	INVITE to sip:USER@<our listener> (with gin: any user, a DID) from
//	  the address registered with ──► the trunk's call (Server.identify),
//	  no digest, routed by the Request-URI's user
//	Close ──► REGISTER Expires: 0 (unregisterAll)
//
// One goroutine per registering trunk, owned with the health pingers
// (healthChecks): stopped at reload and at Close.

// registerBackoffMax bounds the wait between failed registrations.
const registerBackoffMax = 5 * time.Minute

// registerTimeout bounds one REGISTER transaction.
const registerTimeout = 8 * time.Second

// trunkReg is a trunk's registration state.
type trunkReg struct {
	user, password string
	expires        int
	// gin: one bulk number contact for all the trunk's numbers (RFC 6140).
	gin bool

	mu sync.Mutex
	// state is "registering", "registered" or "failed".
	state string
	// remote is where the REGISTER went: the carrier's calls come from
	// there (UDP: address and port; TCP/TLS: address only).
	remote    netip.AddrPort
	transport string
	until     time.Time
}

// newTrunkReg returns a trunk's registration state, nil without register:.
func newTrunkReg(tc config.Trunk) *trunkReg {
	r := tc.Register
	if r == nil {
		return nil
	}
	return &trunkReg{user: r.Username, password: r.Password, expires: r.Expires, gin: r.GIN, state: "registering"}
}

// status is the registration's state for the operations API.
func (r *trunkReg) status() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

// from reports whether a request from src (over transport) is the
// carrier's: it comes from where the registration went.
func (r *trunkReg) from(src netip.AddrPort, transport string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != "registered" || !r.remote.IsValid() || src.Addr().Unmap() != r.remote.Addr() {
		return false
	}
	return !strings.EqualFold(transport, "UDP") || src.Port() == r.remote.Port()
}

// TrunkForRegistration returns the trunk whose registered contact a
// request is addressed to (its Request-URI user; with GIN any user, a
// number of the trunk, RFC 6140 §7) and whose carrier sent it, or nil.
func (r *Router) TrunkForRegistration(req *sip.Request) *Trunk {
	src, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return nil
	}
	for _, t := range r.trunks {
		if t.reg != nil && (t.reg.gin || req.Recipient.User == t.reg.user) && t.reg.from(src, req.Transport()) {
			return t
		}
	}
	return nil
}

// registerLoop keeps a trunk registered until stop.
func (s *Server) registerLoop(t *Trunk, stop chan struct{}) {
	log := s.log.With("component", "trunk-register", "trunk", t.Name)
	backoff := time.Second
	wait := 100 * time.Millisecond // the listeners are bound just after provisioning
	for {
		select {
		case <-stop:
			return
		case <-time.After(wait):
		}
		granted, err := s.register(t, t.reg.expires, registerTimeout)
		t.reg.mu.Lock()
		was := t.reg.state
		if err == nil {
			t.reg.state, t.reg.until = "registered", time.Now().Add(granted)
		} else if !errors.Is(err, errNoListener) {
			t.reg.state = "failed"
		}
		now := t.reg.state
		t.reg.mu.Unlock()
		switch {
		case err == nil:
			backoff = time.Second
			wait = max(granted/2, time.Second) // refresh well before expiry
			if was != now {
				log.Info("trunk registered", "user", t.reg.user, "expires", granted)
			} else {
				log.Info("trunk registration refreshed", "user", t.reg.user, "expires", granted)
			}
		case errors.Is(err, errNoListener):
			wait = 200 * time.Millisecond
		default:
			log.Warn("trunk registration failed", "user", t.reg.user, "error", err, "retry_in", backoff)
			wait = backoff
			backoff = min(2*backoff, registerBackoffMax)
		}
	}
}

// register sends one REGISTER (and its answer to a digest challenge) and
// returns the interval the registrar granted.
func (s *Server) register(t *Trunk, expires int, timeout time.Duration) (time.Duration, error) {
	tr, dest, err := s.registerDest(t)
	if err != nil {
		return 0, err
	}
	l, ok := s.listenerFor(tr, dest)
	if !ok {
		return 0, errNoListener
	}
	aor := sip.Uri{Scheme: "sip", User: t.reg.user, Host: t.URI.Host, Port: t.URI.Port}
	ruri := sip.Uri{Scheme: t.URI.Scheme, Host: t.URI.Host, Port: t.URI.Port}
	contact := contactFor(l)
	contact.User = t.reg.user
	if t.reg.gin {
		contact = ginContact(contact)
	}
	callID, fromTag := s.newCallID()+"@"+s.domain, s.newTag()
	build := func(cseq uint32) *sip.Request {
		req := s.standalone(sip.REGISTER, ruri, aor, aor, callID, fromTag, cseq, tr, dest, l, contact)
		req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
		if t.reg.gin { // RFC 6140 §5.1
			req.AppendHeader(sip.NewHeader("Require", "gin"))
			req.AppendHeader(sip.NewHeader("Proxy-Require", "gin"))
			req.AppendHeader(sip.NewHeader("Supported", "path, gin"))
		}
		return req
	}
	req := build(1)
	res, err := s.transact(req, timeout)
	if err == nil && (res.StatusCode == 401 || res.StatusCode == 407) {
		again := build(2)
		if err := answerChallenge(again, res, t.reg.user, t.reg.password); err != nil {
			return 0, err
		}
		res, err = s.transact(again, timeout)
	}
	if err != nil {
		return 0, err
	}
	if res.StatusCode < 200 || res.StatusCode >= 300 {
		return 0, fmt.Errorf("registrar answered %d %s", res.StatusCode, res.Reason)
	}
	if ap, err := netip.ParseAddrPort(dest); err == nil {
		t.reg.mu.Lock()
		t.reg.remote, t.reg.transport = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), tr
		t.reg.mu.Unlock()
	}
	return grantedExpires(res, contact, expires), nil
}

// ginContact is the bulk number contact of RFC 6140 §5.1: our contact
// without a user part and with the bnc URI parameter; the carrier puts
// each number in the user part of the requests it sends there (§7).
func ginContact(c sip.Uri) sip.Uri {
	c.User = ""
	params := append(sip.NewParams(), c.UriParams...) // a copy, never the caller's
	params.Add("bnc", "")
	c.UriParams = params
	return c
}

// unregisterTimeout bounds the REGISTER that removes a binding at Close.
const unregisterTimeout = 2 * time.Second

// unregisterAll removes the registrations of the configuration in force
// (Expires: 0, RFC 3261 §10.2.2), so that the carrier stops sending calls
// to a contact that is going away. Close calls it while the listeners
// are still open.
func (s *Server) unregisterAll() {
	p := s.policy.Load()
	if p == nil {
		return
	}
	var wg sync.WaitGroup
	for _, t := range p.router.trunks {
		if t.reg == nil || t.reg.status() != "registered" {
			continue
		}
		wg.Go(func() {
			if _, err := s.register(t, 0, unregisterTimeout); err != nil {
				s.log.Info("trunk unregistration failed", "trunk", t.Name, "error", err)
				return
			}
			s.log.Info("trunk unregistered", "trunk", t.Name)
		})
	}
	wg.Wait()
}

// registerDest is where a trunk's REGISTER goes: its first resolved
// target for a trunk by host name or with destinations, else its address.
func (s *Server) registerDest(t *Trunk) (transport, dest string, err error) {
	if t.dns == nil {
		return t.route(time.Now(), hasTLS(s))
	}
	targets, err := resolveTrunk(s.policy.Load().router, t, s, s.log)
	if err != nil {
		return "", "", err
	}
	live, held := t.dns.targets.Order(targets)
	first := append(live, held...)[0]
	return transportName(first.Transport), first.Addr.String(), nil
}

// transact sends a complete request and waits for its final response.
func (s *Server) transact(req *sip.Request, timeout time.Duration) (*sip.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tx, err := s.sender.request(ctx, req)
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.StatusCode >= 200 {
				return res, nil
			}
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, err
			}
			return nil, errNoAnswer
		case <-ctx.Done():
			return nil, errNoAnswer
		}
	}
}

// answerChallenge adds credentials for the first challenge of res whose
// algorithm the digest library knows (RFC 3261 §22.2, RFC 8760).
func answerChallenge(req *sip.Request, res *sip.Response, user, password string) error {
	name, cred := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		name, cred = "Proxy-Authenticate", "Proxy-Authorization"
	}
	var lastErr error = errors.New("no digest challenge")
	for _, h := range res.GetHeaders(name) {
		chal, err := digest.ParseChallenge(h.Value())
		if err != nil {
			lastErr = err
			continue
		}
		chal.Algorithm = strings.ToUpper(chal.Algorithm)
		c, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: req.Recipient.String(), Username: user, Password: password, Count: 1})
		if err != nil {
			lastErr = err
			continue
		}
		req.AppendHeader(sip.NewHeader(cred, c.String()))
		return nil
	}
	return fmt.Errorf("registrar challenge: %w", lastErr)
}

// grantedExpires is the interval the registrar granted our contact: its
// expires parameter in the 200, else the Expires header, else what we
// asked (RFC 3261 §10.2.4).
func grantedExpires(res *sip.Response, ours sip.Uri, asked int) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok || c.Address.User != ours.User || !sameHostPort(c.Address, ours) {
			continue
		}
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return time.Duration(asked) * time.Second
}

// sameHostPort compares two URIs' host and port.
func sameHostPort(a, b sip.Uri) bool {
	return strings.EqualFold(strings.Trim(a.Host, "[]"), strings.Trim(b.Host, "[]")) && a.Port == b.Port
}
