package media

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/stun/v3"
)

// ICE-lite (RFC 8445 §2.5) on the media port. Switchboard is always the
// lite, controlled agent: it never sends a check, it answers the peer's
// Binding requests (RFC 5389) on the RTP socket, authenticated with the
// short-term credentials of the leg's SDP (RFC 8445 §7.3), and takes the
// pair a USE-CANDIDATE names as the leg's media destination (§7.3.1.5;
// regular and aggressive nomination alike: a lite agent nominates
// nothing and takes what the controlling agent nominated, the one of
// highest PRIORITY when there are several). Every authenticated check
// refreshes consent (RFC 7675 §5.1); a leg without one for its consent
// timeout is ended through ICEConfig.OnConsentLost.
//
// The responder is ours rather than a pion/ice Agent: an Agent owns its
// sockets and goroutines, while the endpoint's socket belongs to the
// reactor, which must keep the RTP path allocation-free; a lite agent is
// only a Binding responder, which pion/stun encodes and authenticates.
// pion/ice's full, controlling agent is the peer of
// TestICELiteWithPionAgent (and baresip's that of the end-to-end tests).

// ConsentTimeout is how long a WebRTC leg lives without an authenticated
// connectivity check (RFC 7675 §5.1: 30 seconds).
const ConsentTimeout = 30 * time.Second

// ICECredentials are one side's ice-ufrag and ice-pwd (RFC 8839 §5.4).
type ICECredentials struct {
	Ufrag string // at least 4 ice-chars
	Pwd   string // at least 22 ice-chars
}

// iceChars are the characters of ice-char (RFC 8839 §5.4).
const iceChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// NewICECredentials draws a random ufrag (8 characters, 48 bits) and
// password (24 characters, 144 bits; RFC 8445 §5.3 wants at least 128).
func NewICECredentials() ICECredentials {
	return ICECredentials{Ufrag: randomICEString(8), Pwd: randomICEString(24)}
}

func randomICEString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails (Go 1.24)
	for i := range b {
		b[i] = iceChars[int(b[i])%len(iceChars)]
	}
	return string(b)
}

// ICEConfig turns on the ICE-lite responder of an endpoint.
type ICEConfig struct {
	Local  ICECredentials // ours, from the leg's SDP
	Remote ICECredentials // the peer's (its ufrag checks the USERNAME; empty: not known yet)
	// Consent is how long the leg lives without an authenticated check
	// (0: ConsentTimeout), counted from SetICE.
	Consent time.Duration
	// OnConsentLost runs once, on the engine's sweeper goroutine, when
	// consent expired (RFC 7675 §5.1); it must not block.
	OnConsentLost func()
}

// iceLite is an endpoint's ICE-lite responder state.
type iceLite struct {
	cfg       ICECredentials
	remote    string // the peer's ufrag, "" to accept any
	integrity stun.MessageIntegrity
	consent   int64 // ns
	onLost    func()

	lastCheck atomic.Int64 // unix ns of the last authenticated check (or of SetICE)
	lost      atomic.Bool

	mu        sync.Mutex // nominated pair, checked addresses
	nominated netip.AddrPort
	prio      uint32
	checked   [8]netip.AddrPort // recent sources of authenticated checks
	nChecked  int

	msg stun.Message // request decoding, owned by the reactor goroutine
}

// ICEStats is a snapshot of an endpoint's ICE counters.
type ICEStats struct {
	Checks    uint64         // authenticated Binding requests answered
	Refused   uint64         // Binding requests refused (bad USERNAME or MESSAGE-INTEGRITY)
	Nominated netip.AddrPort // the nominated pair's remote address, zero until one is
}

// ErrICECredentials is returned by SetICE for credentials RFC 8839 §5.4
// does not allow.
var ErrICECredentials = errors.New("ice: ufrag or pwd too short")

// SetICE turns on ICE-lite on the endpoint with cfg (RFC 8445 §2.5); STUN
// arriving before it is counted and dropped. Called again with the same
// local credentials (a re-INVITE) it keeps the nominated pair and consent;
// new local credentials are an ICE restart (RFC 8445 §9): the state
// starts afresh.
func (ep *Endpoint) SetICE(cfg ICEConfig) error {
	if len(cfg.Local.Ufrag) < 4 || len(cfg.Local.Pwd) < 22 {
		return ErrICECredentials
	}
	now := ep.engine.cfg.Now().UnixNano()
	if old := ep.ice.Load(); old != nil && old.cfg == cfg.Local && old.remote == cfg.Remote.Ufrag {
		return nil // same ICE session; its consent callback stays
	}
	l := &iceLite{
		cfg: cfg.Local, remote: cfg.Remote.Ufrag,
		integrity: stun.NewShortTermIntegrity(cfg.Local.Pwd),
		consent:   int64(cfg.Consent), onLost: cfg.OnConsentLost,
	}
	if l.consent <= 0 {
		l.consent = int64(ConsentTimeout)
	}
	if old := ep.ice.Load(); old != nil && old.cfg == cfg.Local {
		// The peer's credentials changed (it restarted): keep the pair
		// and consent; its next checks use the new ufrag.
		old.mu.Lock()
		l.nominated, l.prio = old.nominated, old.prio
		old.mu.Unlock()
		now = old.lastCheck.Load()
	}
	l.lastCheck.Store(now)
	ep.ice.Store(l)
	ep.engine.watchConsent(ep)
	return nil
}

// ICEStats returns the endpoint's ICE counters.
func (ep *Endpoint) ICEStats() ICEStats {
	s := ICEStats{Checks: ep.stats.stunOK.Load(), Refused: ep.stats.stunBad.Load()}
	if l := ep.ice.Load(); l != nil {
		l.mu.Lock()
		s.Nominated = l.nominated
		l.mu.Unlock()
	}
	return s
}

// receiveSTUN answers a Binding request on the RTP socket, on the
// reactor goroutine (RFC 8445 §7.3). Anything else STUN is counted and
// dropped.
func (ep *Endpoint) receiveSTUN(pkt []byte, src netip.AddrPort, now int64) {
	ep.stats.stunIn.Add(1)
	l := ep.ice.Load()
	if l == nil || !stun.IsMessage(pkt) {
		return
	}
	m := &l.msg
	m.Reset()
	m.Raw = append(m.Raw[:0], pkt...)
	if err := m.Decode(); err != nil || m.Type != stun.BindingRequest {
		return // responses and indications: a lite agent sends no request
	}
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	if code, ok := l.authenticate(m); !ok {
		ep.stats.stunBad.Add(1)
		if code != 0 {
			ep.replySTUN(m, src, stun.BindingError, stun.ErrorCodeAttribute{Code: code})
		}
		return
	}
	ep.stats.stunOK.Add(1)
	l.lastCheck.Store(now)
	l.sawCheck(src)
	if m.Contains(stun.AttrUseCandidate) {
		var prio uint32
		if v, err := m.Get(stun.AttrPriority); err == nil && len(v) == 4 {
			prio = binary.BigEndian.Uint32(v)
		}
		ep.nominate(l, src, prio)
	}
	ep.replySTUN(m, src, stun.BindingSuccess,
		&stun.XORMappedAddress{IP: net.IP(src.Addr().AsSlice()), Port: int(src.Port())},
		l.integrity)
}

// authenticate checks a request's USERNAME ("our-ufrag:peer-ufrag",
// RFC 8445 §7.2.2), MESSAGE-INTEGRITY with our password and FINGERPRINT.
// It returns the error code to answer with (RFC 5389 §10.1.2: 400
// without the attributes, 401 when they do not verify; 0: drop).
func (l *iceLite) authenticate(m *stun.Message) (stun.ErrorCode, bool) {
	if m.Contains(stun.AttrFingerprint) && stun.Fingerprint.Check(m) != nil {
		return 0, false // not a STUN packet after all (RFC 7983)
	}
	var u stun.Username
	if err := u.GetFrom(m); err != nil || !m.Contains(stun.AttrMessageIntegrity) {
		return stun.CodeBadRequest, false
	}
	name := string(u)
	if len(name) <= len(l.cfg.Ufrag) || name[:len(l.cfg.Ufrag)] != l.cfg.Ufrag || name[len(l.cfg.Ufrag)] != ':' ||
		(l.remote != "" && name[len(l.cfg.Ufrag)+1:] != l.remote) {
		return stun.CodeUnauthorized, false
	}
	if l.integrity.Check(m) != nil {
		return stun.CodeUnauthorized, false
	}
	return 0, true
}

// nominate makes src the leg's media destination when the peer nominated
// it and no pair of higher priority was nominated before (RFC 8445
// §8.1.1: the controlling agent may nominate several; the highest wins).
func (ep *Endpoint) nominate(l *iceLite, src netip.AddrPort, prio uint32) {
	l.mu.Lock()
	if l.nominated == src || (l.nominated.IsValid() && prio < l.prio) {
		l.mu.Unlock()
		return
	}
	first := !l.nominated.IsValid()
	l.nominated, l.prio = src, prio
	l.mu.Unlock()
	ep.latched.Store(&latch{addr: src, gen: ep.gen.Load()})
	ep.stats.latches.Add(1)
	if t := ep.dtls.Load(); t != nil {
		t.markReady() // an active leg sends its ClientHello now (dtls.go)
	}
	ep.logger().Info("ice pair nominated", "addr", src, "priority", prio, "first", first)
}

// hasNominated reports whether the peer nominated a pair.
func (l *iceLite) hasNominated() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.nominated.IsValid()
}

// sawCheck records src as the source of an authenticated check.
func (l *iceLite) sawCheck(src netip.AddrPort) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range min(l.nChecked, len(l.checked)) {
		if l.checked[i] == src {
			return
		}
	}
	l.checked[l.nChecked%len(l.checked)] = src
	l.nChecked++
}

// validated reports whether src is the nominated pair's remote address
// or sent an authenticated check (a pair the peer may use before it
// nominates).
func (l *iceLite) validated(src netip.AddrPort) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.nominated == src {
		return true
	}
	for i := range min(l.nChecked, len(l.checked)) {
		if l.checked[i] == src {
			return true
		}
	}
	return false
}

// replySTUN answers request m with a message of type t to src, with
// FINGERPRINT last (RFC 8445 §7.3).
func (ep *Endpoint) replySTUN(m *stun.Message, src netip.AddrPort, t stun.MessageType, attrs ...stun.Setter) {
	setters := make([]stun.Setter, 0, len(attrs)+3)
	setters = append(setters, stun.NewTransactionIDSetter(m.TransactionID), t)
	setters = append(setters, attrs...)
	setters = append(setters, stun.Fingerprint)
	resp, err := stun.Build(setters...)
	if err != nil {
		return
	}
	if _, err := ep.rtp.sendTo(resp.Raw, src); err != nil {
		ep.stats.sendErrors.Add(1)
	}
}

// consentExpired reports (once) whether the leg's consent ran out at now.
func (l *iceLite) consentExpired(now int64) bool {
	return now-l.lastCheck.Load() > l.consent && l.lost.CompareAndSwap(false, true)
}

// watchConsent adds ep to the endpoints whose consent the sweeper checks.
func (e *Engine) watchConsent(ep *Endpoint) {
	e.consentMu.Lock()
	if e.consent == nil {
		e.consent = map[*Endpoint]struct{}{}
	}
	e.consent[ep] = struct{}{}
	e.consentMu.Unlock()
}

// unwatchConsent removes ep from the consent checks (Endpoint.Close).
func (e *Engine) unwatchConsent(ep *Endpoint) {
	e.consentMu.Lock()
	delete(e.consent, ep)
	e.consentMu.Unlock()
}

// sweepConsent fires OnConsentLost of each ICE leg whose consent expired
// at now (RFC 7675 §5.1), after releasing the lock.
func (e *Engine) sweepConsent(now time.Time) {
	var lost []func()
	e.consentMu.Lock()
	for ep := range e.consent {
		l := ep.ice.Load()
		if l == nil || ep.closed.Load() {
			delete(e.consent, ep)
			continue
		}
		if l.consentExpired(now.UnixNano()) {
			delete(e.consent, ep)
			ep.logger().Info("ice consent expired", "after", time.Duration(l.consent))
			if l.onLost != nil {
				lost = append(lost, l.onLost)
			}
		}
	}
	e.consentMu.Unlock()
	for _, f := range lost {
		f()
	}
}
