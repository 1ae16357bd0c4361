package registrar

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/auth"
)

// dateLayout is the SIP-date format (RFC 3261 §20.17, RFC 1123 in GMT).
const dateLayout = "Mon, 02 Jan 2006 15:04:05 GMT"

// HandleRegister answers a REGISTER following RFC 3261 §10.3 and sends the
// response on tx. It is safe for concurrent use.
func (r *Registrar) HandleRegister(req *sip.Request, tx sip.ServerTransaction) {
	res := r.handle(req)
	if err := tx.Respond(res); err != nil {
		r.log.Warn("sending REGISTER response failed", "status", res.StatusCode, "source", req.Source(), "err", err)
	}
}

// regError is a failure that maps to one SIP response.
type regError struct {
	code   int
	reason string
	hdrs   []sip.Header
}

func (e *regError) Error() string { return fmt.Sprintf("%d %s", e.code, e.reason) }

func fail(code int, reason string, hdrs ...sip.Header) *regError {
	return &regError{code: code, reason: reason, hdrs: hdrs}
}

// handle processes one REGISTER and returns the response to send.
func (r *Registrar) handle(req *sip.Request) *sip.Response {
	if req.Method != sip.REGISTER {
		return respond(req, fail(405, "Method Not Allowed", sip.NewHeader("Allow", "REGISTER")))
	}
	// §10.3 step 2: we support no extensions that a REGISTER can require.
	if hs := req.GetHeaders("Require"); len(hs) > 0 {
		var un []sip.Header
		for _, h := range hs {
			un = append(un, sip.NewHeader("Unsupported", h.Value()))
		}
		return respond(req, fail(420, "Bad Extension", un...))
	}
	// §10.3 step 3: authenticate (RFC 3261 §22).
	ar := r.auth.Check(req, auth.WWW)
	if ar.Reason != auth.OK {
		if ar.Reason != auth.NoCredentials {
			r.log.Info("REGISTER authentication failed", "reason", ar.Reason.String(),
				"user", ar.User, "source", req.Source())
		}
		return ar.Challenge
	}
	// §10.3 steps 4-5: the authenticated user may only touch its own AOR.
	to := req.To()
	if to == nil {
		return respond(req, fail(400, "Missing To"))
	}
	if to.Address.User != ar.User {
		r.log.Warn("REGISTER for another user refused", "user", ar.User, "aor", to.Address.User, "source", req.Source())
		return respond(req, fail(403, "Forbidden"))
	}
	callID, cseq := req.CallID(), req.CSeq()
	if callID == nil || cseq == nil {
		return respond(req, fail(400, "Missing Call-ID or CSeq"))
	}
	contacts, err := requestContacts(req)
	if err != nil {
		return respond(req, fail(400, "Bad Contact"))
	}
	hdrExpires, hasExpires, err := expiresHeader(req)
	if err != nil {
		return respond(req, fail(400, "Bad Expires"))
	}

	now := r.now()
	r.mu.Lock()
	cfg := r.cfg
	current := live(r.users[ar.User], now)
	if len(contacts) == 0 {
		// §10.3 step 8: a REGISTER without Contact fetches the bindings.
		r.mu.Unlock()
		return r.ok(req, current, now, cfg, false)
	}
	u := update{
		user: ar.User, callID: callID.Value(), cseq: cseq.SeqNo,
		source: req.Source(), transport: req.Transport(), now: now, cfg: cfg,
		hdrExpires: hdrExpires, hasExpires: hasExpires,
		outbound: supports(req, optionOutbound),
	}
	if h := req.GetHeader("User-Agent"); h != nil {
		u.userAgent = h.Value()
	}
	next, events, rerr := u.apply(current, contacts)
	if rerr != nil {
		r.mu.Unlock()
		return respond(req, rerr)
	}
	// §10.3 step 7: commit only when every contact succeeded.
	if len(next) == 0 {
		delete(r.users, ar.User)
	} else {
		r.users[ar.User] = next
	}
	r.changed()
	r.share(ar.User, current, next) // write-through, non-blocking (store_shared.go)
	r.mu.Unlock()
	for _, e := range events {
		r.log.Info(e.what, "user", ar.User, "contact", e.b.Contact, "source", e.b.Source,
			"transport", e.b.Transport, "expires_s", max(0, int(e.b.Expires.Sub(now)/time.Second)))
	}
	return r.ok(req, append([]Binding(nil), next...), now, cfg, u.usedOutbound)
}

// update is one REGISTER's changes to a user's bindings.
type update struct {
	user, callID, source, transport, userAgent string
	cseq                                       uint32
	now                                        time.Time
	cfg                                        Config
	hdrExpires                                 uint32
	hasExpires                                 bool
	// outbound: the REGISTER supports RFC 5626; usedOutbound: one of its
	// contacts made or refreshed a flow (outbound.go).
	outbound, usedOutbound bool
}

type event struct {
	what string
	b    Binding
}

// apply computes the user's bindings after the request (§10.3 steps 6-7)
// without touching the registrar; cur holds the live bindings.
func (u *update) apply(cur []Binding, contacts []*sip.ContactHeader) ([]Binding, []event, *regError) {
	next := append([]Binding(nil), cur...)
	var events []event
	// §10.3 step 6: "*" must be alone and come with Expires: 0.
	for _, c := range contacts {
		if !c.Address.Wildcard {
			continue
		}
		if len(contacts) != 1 || !u.hasExpires || u.hdrExpires != 0 {
			return nil, nil, fail(400, "Invalid Wildcard Contact")
		}
		for _, b := range next {
			if b.CallID == u.callID && u.cseq <= b.CSeq {
				return nil, nil, fail(500, "Out Of Order CSeq")
			}
			events = append(events, event{"unregistered", b})
		}
		return nil, events, nil
	}
	touched := make(map[string]bool, len(contacts))
	for _, c := range contacts {
		exp, err := u.expires(c)
		if err != nil {
			return nil, nil, err
		}
		q := 1.0
		if v, ok := c.Params.Get("q"); ok {
			f, perr := strconv.ParseFloat(v, 64)
			if perr != nil || f < 0 || f > 1 {
				return nil, nil, fail(400, "Bad q Value")
			}
			q = f
		}
		uri := c.Address.String()
		key, kerr := contactKey(uri)
		if kerr != nil {
			return nil, nil, fail(400, "Bad Contact")
		}
		instance, _ := c.Params.Get("+sip.instance")
		reg, rerr := regID(c, u.outbound, instance)
		if rerr != nil {
			return nil, nil, rerr
		}
		i := -1
		for j := range next {
			if reg != "" || next[j].RegID != "" {
				// RFC 5626 §6: a flow is named by (instance, reg-id).
				if reg != "" && next[j].Instance == instance && next[j].RegID == reg {
					i = j
					break
				}
				continue
			}
			if next[j].key == key || (instance != "" && next[j].Instance == instance) {
				i = j
				break
			}
		}
		if i >= 0 && !touched[next[i].key] && next[i].CallID == u.callID && u.cseq <= next[i].CSeq {
			// §10.3 step 7: a same-Call-ID request that is not newer fails.
			// (A contact listed twice in one request matches itself: skip.)
			return nil, nil, fail(500, "Out Of Order CSeq")
		}
		if exp == 0 {
			if i >= 0 {
				events = append(events, event{"unregistered", next[i]})
				next = append(next[:i], next[i+1:]...)
			}
			continue
		}
		b := Binding{
			User: u.user, Contact: uri, Source: u.source, Transport: u.transport,
			Expires: u.now.Add(time.Duration(exp) * time.Second), Q: q,
			CallID: u.callID, CSeq: u.cseq, Instance: instance, UserAgent: u.userAgent,
			Updated: u.now, key: key, RegID: reg,
		}
		if reg != "" {
			u.usedOutbound = true
		}
		if instance != "" {
			if i >= 0 && next[i].TempGRUU != "" {
				b.TempGRUU = next[i].TempGRUU
			} else {
				b.TempGRUU = newTempGRUU()
			}
		}
		touched[key] = true
		if i >= 0 {
			if next[i].Source != b.Source || next[i].Contact != b.Contact {
				events = append(events, event{"registered", b})
			}
			next[i] = b
		} else {
			events = append(events, event{"registered", b})
			next = append(next, b)
		}
	}
	// Bound the bindings per user: drop the least recently refreshed ones
	// not refreshed by this request.
	for len(next) > u.cfg.MaxContacts {
		old := -1
		for j := range next {
			if touched[next[j].key] {
				continue
			}
			if old < 0 || next[j].Updated.Before(next[old].Updated) {
				old = j
			}
		}
		if old < 0 {
			return nil, nil, fail(403, "Too Many Contacts")
		}
		events = append(events, event{"binding replaced (max_contacts)", next[old]})
		next = append(next[:old], next[old+1:]...)
	}
	return next, events, nil
}

// expires returns the granted expiry for one contact (§10.3 step 6): the
// contact's expires parameter, else the Expires header, else the default;
// clamped to MaxExpires; below MinExpires (and under an hour) it is refused
// with 423 and Min-Expires (§10.3 step 6, §21.4.17).
func (u *update) expires(c *sip.ContactHeader) (uint32, *regError) {
	exp := uint32(u.cfg.DefaultExpires)
	if v, ok := c.Params.Get("expires"); ok {
		e, err := parseDelta(v)
		if err != nil {
			return 0, fail(400, "Bad Contact Expires")
		}
		exp = e
	} else if u.hasExpires {
		exp = u.hdrExpires
	}
	if exp == 0 {
		return 0, nil
	}
	if exp < uint32(u.cfg.MinExpires) {
		if exp < 3600 {
			return 0, fail(423, "Interval Too Brief", sip.NewHeader("Min-Expires", strconv.Itoa(u.cfg.MinExpires)))
		}
		exp = uint32(u.cfg.MinExpires)
	}
	return min(exp, uint32(u.cfg.MaxExpires)), nil
}

// parseDelta parses delta-seconds; values beyond 2^32-1 mean 2^32-1
// (RFC 3261 §20.19, §25.1).
func parseDelta(s string) (uint32, error) {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	if errors.Is(err, strconv.ErrRange) {
		return 1<<32 - 1, nil
	}
	return uint32(v), err
}

// expiresHeader returns the Expires header's value, if present.
func expiresHeader(req *sip.Request) (uint32, bool, error) {
	h := req.GetHeader("Expires")
	if h == nil {
		return 0, false, nil
	}
	v, err := parseDelta(h.Value())
	if err != nil {
		return 0, true, fmt.Errorf("registrar: bad Expires %q: %w", h.Value(), err)
	}
	return v, true, nil
}

// requestContacts returns the request's Contact header values, one per
// address, whether sipgo parsed them or left them generic.
func requestContacts(req *sip.Request) ([]*sip.ContactHeader, error) {
	var out []*sip.ContactHeader
	for _, name := range []string{"Contact", "m"} {
		for _, h := range req.GetHeaders(name) {
			if c, ok := h.(*sip.ContactHeader); ok {
				out = append(out, c)
				continue
			}
			parsed, err := sip.HeadersParser(sip.DefaultHeadersParser()).ParseHeader(nil, []byte("Contact: "+h.Value()))
			if err != nil {
				return nil, err
			}
			for _, p := range parsed {
				c, ok := p.(*sip.ContactHeader)
				if !ok {
					return nil, fmt.Errorf("registrar: unparsed contact %q", h.Value())
				}
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// contactKey reduces a Contact URI to what RFC 3261 §19.1.4 compares:
// scheme, user (case-sensitive), host (case-insensitive), port and the
// transport/maddr/user parameters. Other parameters are ignored.
func contactKey(s string) (string, error) {
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		return "", err
	}
	if u.Host == "" {
		return "", fmt.Errorf("registrar: contact %q has no host", s)
	}
	var b strings.Builder
	b.WriteString(strings.ToLower(u.Scheme))
	b.WriteByte(':')
	b.WriteString(u.User)
	b.WriteByte('@')
	b.WriteString(strings.ToLower(u.Host))
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(u.Port))
	for _, p := range []string{"transport", "maddr", "user"} {
		if v, ok := u.UriParams.Get(p); ok {
			b.WriteString(";" + p + "=" + strings.ToLower(v))
		}
	}
	return b.String(), nil
}

// ok builds the 200 listing every current binding with its remaining expiry
// (§10.3 step 8) and a Date header; GRUUs when the request supports them
// (gruu.go), Require: outbound and Flow-Timer when it made a flow
// (outbound.go). It sorts bs in place: pass a copy.
func (r *Registrar) ok(req *sip.Request, bs []Binding, now time.Time, cfg Config, usedOutbound bool) *sip.Response {
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	sortBindings(bs)
	gruu, domain := supports(req, optionGRUU), cfg.Domain
	if to := req.To(); domain == "" && to != nil {
		domain = to.Address.Host
	}
	for _, b := range bs {
		var u sip.Uri
		if err := sip.ParseUri(b.Contact, &u); err != nil {
			continue // cannot happen: contactKey parsed it before storing
		}
		params := sip.NewParams()
		left := b.Expires.Sub(now)
		params.Add("expires", strconv.Itoa(int((left+time.Second-1)/time.Second)))
		if b.Q != 1 {
			params.Add("q", strconv.FormatFloat(b.Q, 'f', -1, 64))
		}
		gruuParams(&params, b, domain, gruu)
		res.AppendHeader(&sip.ContactHeader{Address: u, Params: params})
	}
	outboundHeaders(res, cfg.FlowTimer, usedOutbound)
	res.AppendHeader(sip.NewHeader("Date", now.UTC().Format(dateLayout)))
	return res
}

// respond builds the response for a failure.
func respond(req *sip.Request, e *regError) *sip.Response {
	res := sip.NewResponseFromRequest(req, e.code, e.reason, nil)
	for _, h := range e.hdrs {
		res.AppendHeader(h)
	}
	return res
}
