package b2bua

import (
	"context"
	crand "crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/auth"
	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/guard"
	"github.com/switchboard/switchboard/identity"
	"github.com/switchboard/switchboard/journal"
	"github.com/switchboard/switchboard/media"
	"github.com/switchboard/switchboard/registrar"
	"github.com/switchboard/switchboard/sipdns"
)

// branchPrefix marks Via branches Switchboard generates; seeing one of ours
// on an incoming initial request means a loop (RFC 3261 §16.3 step 4, as a
// B2BUA applies it).
const branchPrefix = "z9hG4bK-sb"

// sipSocketBuffer is the receive/send buffer asked for on UDP SIP sockets
// (the kernel caps it at net.core.rmem_max/wmem_max).
const sipSocketBuffer = 4 << 20

// policy is the part of the configuration SIGHUP can swap atomically.
type policy struct {
	router *Router
	users  map[string]config.User
	cfg    *config.Config
	guard  *guard.Guard // the same across reloads (nil in some unit tests)
	// verifier checks the Identity of calls from trunks (nil when
	// identity.trust_anchors is not set; identity.go).
	verifier *identity.Verifier
}

// listener is one bound SIP socket.
type listener struct {
	network string // "UDP", "TCP" or "TLS"
	addr    netip.AddrPort
	closer  func() error
}

// Server is the signaling half: it owns the SIP stack, the registrar, the
// dialog table and every Call.
type Server struct {
	log       *slog.Logger
	userAgent string
	domain    string

	policy atomic.Pointer[policy]

	ua     *sipgo.UserAgent
	flows  flowKeepalives // RFC 5626 keep-alives per stream flow (outbound.go)
	srv    *sipgo.Server
	client *sipgo.Client

	media *media.Engine
	// sender and mediaPath are what calls use of client, ua and media.
	sender    *sipgoSender
	mediaPath *engineMedia
	auth      *auth.Authenticator
	sec       *guard.Guard // attack protection (security.go)
	overload  *overload    // admission control of new calls (overload.go); nil when off
	secLog    io.Closer
	reg       *registrar.Registrar
	cdr       *cdr.Writer
	records   *observedRecords            // what calls write their record to: cdr and the ObserveRecords observer
	capture   atomic.Pointer[Capture]     // SetCapture's hook (HEP), nil when off
	rtcpCap   atomic.Pointer[RTCPCapture] // SetRTCPCapture's hook (HEP), nil when off

	// listeners is copied on write: Listen appends while handlers of the
	// listeners bound first already read it (listenerFor, isOwnAddr).
	listeners  atomic.Pointer[[]listener]
	listenerMu sync.Mutex // serialises writers of listeners
	// tlsServer is the tls:// listeners' configuration (tls.go), built
	// by the first one Listen binds.
	tlsServer *tls.Config
	// tlsPeers are the client certificates of TLS connections (tls_peer.go).
	tlsPeers tlsPeers
	// resolver resolves trunks given by host name (trunk_dns.go).
	resolver *sipdns.Resolver
	// healthRun are the trunk pingers of the configuration in force
	// (trunk_health.go).
	healthMu  sync.Mutex
	healthRun *healthChecks

	mu      sync.Mutex
	dialogs map[string]*Call // dialogKey → call
	calls   map[string]*Call // call id → call
	invites map[string]*Call // initialKey of the INVITE that started it → call

	// callHook, when set (tests only), runs as every call starts; a panic
	// there exercises per-call panic recovery.
	callHook func(dialled string)

	draining atomic.Bool
	callWG   sync.WaitGroup
	seq      atomic.Uint64
	ids      *idSource
	started  time.Time
}

// New builds a Server from a validated configuration. Passwords must
// already be resolved (config.ResolvePasswords).
func New(cfg *config.Config, log *slog.Logger) (*Server, error) {
	s := &Server{
		log:       log,
		userAgent: cfg.SIP.UserAgent,
		domain:    cfg.SIP.Domain,
		dialogs:   map[string]*Call{},
		invites:   map[string]*Call{},
		calls:     map[string]*Call{},
		ids:       newIDSource(),
		started:   time.Now(),
	}
	if s.userAgent == "" {
		s.userAgent = "Switchboard"
	}
	var err error
	if s.sec, s.secLog, err = newGuard(cfg); err != nil {
		return nil, err
	}
	s.resolver = newResolver(cfg, log)
	if err := s.setPolicy(cfg); err != nil {
		return nil, err
	}

	me, err := newMediaEngine(cfg, log)
	if err != nil {
		return nil, err
	}
	s.media = me
	s.mediaPath = &engineMedia{e: me, log: log}
	if s.overload, err = newOverload(cfg, me.PortUse, log.With("component", "overload")); err != nil {
		s.media.Close()
		return nil, err
	}

	realm := cfg.SIP.Realm
	if realm == "" {
		realm = cfg.SIP.Domain
	}
	s.auth = auth.New(realm, s.password, cfg.SIP.NonceLifetime, time.Now)
	if err := s.auth.SetAlgorithms(cfg.SIP.DigestAlgorithms); err != nil {
		s.media.Close()
		return nil, fmt.Errorf("sip.digest_algorithms: %w", err)
	}

	s.auth.SetLimiter(s.sec.Bans)

	s.reg, err = registrar.New(s.registrarConfig(cfg), s.auth, time.Now, log)
	if err != nil {
		s.media.Close()
		return nil, fmt.Errorf("registrar: %w", err)
	}
	// Calls a crash interrupted get their records before new calls come.
	if _, err := journal.Recover(cfg.State.Dir, cfg.Records.Dir, log.With("component", "journal")); err != nil {
		s.media.Close()
		return nil, fmt.Errorf("records: %w", err)
	}
	s.cdr, err = cdr.NewWriter(cfg.Records.Dir, log.With("component", "cdr"))
	if err != nil {
		s.media.Close()
		return nil, fmt.Errorf("records: %w", err)
	}
	jr, err := journal.Open(cfg.State.Dir, log.With("component", "journal"))
	if err != nil {
		s.media.Close()
		_ = s.cdr.Close()
		return nil, fmt.Errorf("state: %w", err)
	}
	jr.HoldEndedWhile(func() bool { return s.cdr.Held() > 0 })
	s.records = &observedRecords{w: s.cdr, j: jr}

	// sipgo refuses UDP writes over 1300 bytes by default, responses
	// included: a 407 echoing a long Via list (RFC 4475 longreq) or an
	// INVITE with a rich SDP would be silently lost. Datagrams up to the
	// UDP limit go out; IP fragments them when needed.
	// It is a sipgo package variable: written only when it differs, so
	// that a second Server (tests run several) does not race with the
	// first one's writes.
	if sip.UDPMTUSize != 65535 {
		sip.UDPMTUSize = 65535
	}
	sipLog := log.With("component", "sip")
	s.ua, err = sipgo.NewUA(
		sipgo.WithUserAgent(s.userAgent),
		sipgo.WithUserAgenTLSConfig(clientTLSConfig()),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerUnhandledResponseHandler(s.onStrayResponse),
			sip.WithTransactionLayerLogger(sipLog),
		),
		sipgo.WithUserAgentTransportLayerOptions(
			sip.WithTransportLayerTLSDialConfig(s.tlsDialConfig),
			sip.WithTransportLayerReadFilter(s.captureRead(newReadFilter(s).filter)),
			sip.WithTransportLayerWriteHook(s.captureWrite),
			sip.WithTransportLayerLogger(sipLog),
		),
	)
	if err != nil {
		return nil, err
	}
	s.srv, err = sipgo.NewServer(s.ua, sipgo.WithServerLogger(log.With("component", "sip")))
	if err != nil {
		return nil, err
	}
	s.client, err = sipgo.NewClient(s.ua, sipgo.WithClientLogger(log.With("component", "sip")))
	if err != nil {
		return nil, err
	}
	s.sender = &sipgoSender{client: s.client, ua: s.ua}
	s.startQualityReports()
	s.routes()
	return s, nil
}

// newMediaEngine starts the media engine from the validated media section
// (addresses and port range parsed once, by config.Validate).
func newMediaEngine(cfg *config.Config, log *slog.Logger) (*media.Engine, error) {
	m := cfg.Media
	if !m.BindAddr.IsValid() || m.PortMin == 0 {
		return nil, fmt.Errorf("media: %w", errNotValidated)
	}
	return media.NewEngine(media.Config{
		Bind:         m.BindAddr,
		Advertise:    m.AdvertiseAddr,
		PortMin:      m.PortMin,
		PortMax:      m.PortMax,
		Quarantine:   m.Quarantine,
		Inactivity:   m.InactivityTimeout,
		LatchPackets: m.LatchPackets,
	}, log.With("component", "media"))
}

func (s *Server) setPolicy(cfg *config.Config) error {
	r, err := NewRouter(cfg)
	if err != nil {
		return err
	}
	r.resolver = s.resolver
	p := &policy{router: r, users: map[string]config.User{}, cfg: cfg, guard: s.sec, verifier: newVerifier(cfg)}
	if s.sec != nil {
		s.sec.SetConfig(guardConfig(cfg))
	}
	for _, u := range cfg.Users {
		p.users[u.Name] = u
	}
	s.policy.Store(p)
	s.startHealth(r)
	return nil
}

// Reload swaps users and routes atomically. The new configuration must be
// valid; on error the old one stays in force.
func (s *Server) Reload(cfg *config.Config) error {
	// Check everything before changing anything.
	if _, err := NewRouter(cfg); err != nil {
		return err
	}
	if err := s.auth.SetAlgorithms(cfg.SIP.DigestAlgorithms); err != nil {
		return fmt.Errorf("sip.digest_algorithms: %w", err)
	}
	if err := s.reg.SetLimits(s.registrarConfig(cfg)); err != nil {
		return err
	}
	return s.setPolicy(cfg)
}

func (s *Server) registrarConfig(cfg *config.Config) registrar.Config {
	return registrar.Config{
		StateDir:       cfg.State.Dir,
		Domain:         cfg.SIP.Domain,
		MinExpires:     cfg.SIP.MinExpires,
		MaxExpires:     cfg.SIP.MaxExpires,
		DefaultExpires: cfg.SIP.DefaultExpires,
	}
}

// password is the digest lookup: it reads the current policy, so a reload
// takes effect for the next request.
func (s *Server) password(user string) (string, bool) {
	u, ok := s.policy.Load().users[user]
	if !ok || u.Password == "" {
		return "", false
	}
	return u.Password, true
}

// Listen binds every listener of sip.listen as config.Validate parsed it
// (cfg.SIP.Listeners).
func (s *Server) Listen(ctx context.Context, ls []config.Listener) error {
	for _, cl := range ls {
		raw := cl.Transport + "://" + cl.Addr.String()
		var l listener
		switch cl.Transport {
		case "udp":
			pc, err := net.ListenPacket("udp", cl.Addr.String())
			if err != nil {
				return fmt.Errorf("sip.listen %q: %w", raw, err)
			}
			// A burst of calls must not overflow the kernel's default
			// ~200 KB queue while the parser catches up (drops become
			// retransmissions and seconds of setup delay).
			if uc, ok := pc.(*net.UDPConn); ok {
				_ = uc.SetReadBuffer(sipSocketBuffer)
				_ = uc.SetWriteBuffer(sipSocketBuffer)
			}
			l = listener{network: "UDP", addr: pc.LocalAddr().(*net.UDPAddr).AddrPort(), closer: pc.Close}
			s.addListener(l)
			conn := newRawUDPConn(pc)
			if rc, ok := conn.(*rawUDPConn); ok && s.overload != nil {
				rc.measureQueue(&s.overload.standing)
			}
			go func() { _ = s.srv.ServeUDP(conn) }()
		case "tcp":
			tl, err := net.Listen("tcp", cl.Addr.String())
			if err != nil {
				return fmt.Errorf("sip.listen %q: %w", raw, err)
			}
			l = listener{network: "TCP", addr: tl.Addr().(*net.TCPAddr).AddrPort(), closer: tl.Close}
			s.addListener(l)
			go func() { _ = s.srv.ServeTCP(tl) }()
		case "tls":
			tl, err := s.listenTLS(cl.Addr.String())
			if err != nil {
				return fmt.Errorf("sip.listen %q: %w", raw, err)
			}
			l = listener{network: "TLS", addr: tl.Addr().(*net.TCPAddr).AddrPort(), closer: tl.Close}
			s.addListener(l)
			go func() { _ = s.srv.ServeTLS(tl) }()
		case config.TransportWS, config.TransportWSS:
			var err error
			if l, err = s.listenWS(cl); err != nil { // websocket.go
				return fmt.Errorf("sip.listen %q: %w", raw, err)
			}
			s.addListener(l)
		default:
			return fmt.Errorf("sip.listen %q: transport %q not supported yet", raw, cl.Transport)
		}
		s.log.Info("listening", "transport", cl.Transport, "addr", l.addr.String())
	}
	return nil
}

// addListener publishes a bound listener.
func (s *Server) addListener(l listener) {
	s.listenerMu.Lock()
	defer s.listenerMu.Unlock()
	old := s.listenerList()
	next := append(old[:len(old):len(old)], l)
	s.listeners.Store(&next)
}

// listenerList is the bound listeners; the slice is never written again.
func (s *Server) listenerList() []listener {
	if p := s.listeners.Load(); p != nil {
		return *p
	}
	return nil
}

// Addrs lists the bound listener addresses as transport://ip:port.
func (s *Server) Addrs() []string {
	var out []string
	for _, l := range s.listenerList() {
		out = append(out, strings.ToLower(l.network)+"://"+l.addr.String())
	}
	return out
}

// listenerFor picks the listener for a transport and destination address
// family; dest may be a host name, then IPv4 is assumed.
func (s *Server) listenerFor(transport, dest string) (listener, bool) {
	v6 := false
	if host, _, err := net.SplitHostPort(dest); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			v6 = a.Is6() && !a.Is4In6()
		}
	}
	var fallback *listener
	ls := s.listenerList()
	for i := range ls {
		l := &ls[i]
		if !strings.EqualFold(l.network, transport) {
			continue
		}
		if l.addr.Addr().Is6() == v6 {
			return *l, true
		}
		if fallback == nil {
			fallback = l
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return listener{}, false
}

func sipAddr(ap netip.AddrPort) sip.Addr {
	return sip.Addr{IP: net.IP(ap.Addr().AsSlice()), Port: int(ap.Port())}
}

func hostOf(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}

// newVia builds Switchboard's Via for a request leaving from laddr.
func (s *Server) newVia(transport string, laddr sip.Addr) *sip.ViaHeader {
	host := laddr.IP.String()
	if laddr.IP.To4() == nil {
		host = "[" + host + "]"
	}
	v := &sip.ViaHeader{
		ProtocolName: "SIP", ProtocolVersion: "2.0",
		Transport: strings.ToUpper(transport), Host: host, Port: laddr.Port,
		Params: sip.NewParams(),
	}
	v.Params.Add("branch", branchPrefix+s.ids.hex(10))
	v.Params.Add("rport", "")
	return v
}

// contactFor is Switchboard's Contact URI on a listener.
func contactFor(l listener) sip.Uri {
	u := sip.Uri{Scheme: "sip", User: "sb", Host: hostOf(l.addr.Addr()), Port: int(l.addr.Port()), UriParams: sip.NewParams()}
	switch l.network {
	case "UDP":
	case "WS", "WSS":
		u.UriParams.Add("transport", "ws") // RFC 7118 §5.2: ws for both
	default:
		u.UriParams.Add("transport", strings.ToLower(l.network))
	}
	return u
}

// idSource makes the random parts of tags, branches and call ids
// (RFC 3261 §19.3: tags and branches must be unique and unguessable). It is
// ChaCha8 from math/rand/v2, a cryptographically secure generator, seeded
// from crypto/rand: reading crypto/rand for every few bytes would cost a
// getrandom system call each, several per call.
type idSource struct {
	mu  sync.Mutex
	rng *rand.ChaCha8
}

func newIDSource() *idSource {
	var seed [32]byte
	_, _ = crand.Read(seed[:]) // never fails on Linux (crypto/rand doc)
	return &idSource{rng: rand.NewChaCha8(seed)}
}

// hex returns n random bytes (at most 32) as 2n hex digits. A nil source
// (a Server built without New, in tests) reads crypto/rand directly.
func (r *idSource) hex(n int) string {
	var b [32]byte
	var out [64]byte
	n = min(n, len(b))
	if r == nil {
		_, _ = crand.Read(b[:n])
	} else {
		r.mu.Lock()
		_, _ = r.rng.Read(b[:n])
		r.mu.Unlock()
	}
	hex.Encode(out[:], b[:n])
	return string(out[:2*n])
}

// routes registers the request handlers.
func (s *Server) routes() {
	s.srv.OnInvite(s.guard(s.onInvite))
	s.srv.OnAck(s.guard(s.onAck))
	s.srv.OnBye(s.guard(s.onInDialog))
	s.srv.OnInfo(s.guard(s.onInDialog))
	s.srv.OnUpdate(s.guard(s.onInDialog))
	s.srv.OnRefer(s.guard(s.onInDialog))
	s.srv.OnNotify(s.guard(s.onInDialog))
	s.srv.OnPrack(s.guard(s.onInDialog))
	s.srv.OnMessage(s.guard(s.onOutOfDialog))
	s.srv.OnSubscribe(s.guard(s.onOutOfDialog))
	s.srv.OnPublish(s.guard(s.onOutOfDialog))
	s.srv.OnCancel(s.guard(s.onCancel))
	s.srv.OnOptions(s.guard(s.onOptions))
	s.srv.OnRegister(s.guard(s.onRegister))
	s.srv.OnNoRoute(s.guard(s.onUnknownMethod))
}

// guard turns a panic while handling one request into a 500 and a log line;
// the process keeps serving.
func (s *Server) guard(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("panic handling request", "method", req.Method, "call_id", callIDOf(req), "panic", r, "stack", string(debug.Stack()))
				if tx != nil && !req.IsAck() {
					_ = tx.Respond(s.response(req, 500, "", nil))
				}
			}
		}()
		if !s.admit(req, tx) {
			return // scanner or over the rate (security.go)
		}
		// RFC 3261 §8.2 checks (scheme, Require, Content-Type, headers)
		// before any handler. A bad ACK is dropped: ACK gets no response.
		if res := s.validate(req); res != nil {
			if !req.IsAck() {
				if err := tx.Respond(res); err != nil {
					s.log.Debug("respond failed", "code", res.StatusCode, "error", err)
				}
			}
			return
		}
		h(req, tx)
	}
}

func callIDOf(m sip.Message) string {
	var h *sip.CallIDHeader
	switch v := m.(type) {
	case *sip.Request:
		h = v.CallID()
	case *sip.Response:
		h = v.CallID()
	}
	if h == nil {
		return ""
	}
	return h.Value()
}

// response builds a response with Switchboard's Server header.
func (s *Server) response(req *sip.Request, code int, reason string, body []byte) *sip.Response {
	if reason == "" {
		reason = reasonPhrase(code)
	}
	res := sip.NewResponseFromRequest(req, code, reason, body)
	res.AppendHeader(sip.NewHeader("Server", s.userAgent))
	if body != nil {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	return res
}

func (s *Server) reply(req *sip.Request, tx sip.ServerTransaction, code int, reason string) {
	if err := tx.Respond(s.response(req, code, reason, nil)); err != nil {
		s.log.Debug("respond failed", "code", code, "call_id", callIDOf(req), "error", err)
	}
}

const allowMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REGISTER, UPDATE, REFER"

func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	res := s.response(req, 200, "", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowMethods))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	res.AppendHeader(sip.NewHeader("Supported", supportedOptionTags))
	_ = tx.Respond(res)
}

func (s *Server) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	s.reg.HandleRegister(req, tx)
}

func (s *Server) onUnknownMethod(req *sip.Request, tx sip.ServerTransaction) {
	res := s.response(req, 501, "", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowMethods))
	_ = tx.Respond(res)
}

func (s *Server) onOutOfDialog(req *sip.Request, tx sip.ServerTransaction) {
	if req.To() != nil && tagOf(req.To().Params) != "" {
		s.onInDialog(req, tx)
		return
	}
	res := s.response(req, 405, "", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowMethods))
	_ = tx.Respond(res)
}

func (s *Server) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	// A CANCEL matching a pending INVITE is answered by the transaction
	// layer; reaching here means there is nothing to cancel.
	s.reply(req, tx, 481, "")
}

// findDialog looks a request up by Call-ID and the tag Switchboard gave
// (the To tag of an in-dialog request).
func (s *Server) findDialog(req *sip.Request) (*Call, string) {
	to := req.To()
	if to == nil {
		return nil, ""
	}
	key := dialogKey(callIDOf(req), tagOf(to.Params))
	s.mu.Lock()
	c := s.dialogs[key]
	s.mu.Unlock()
	return c, key
}

func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	c, key := s.findDialog(req)
	if c == nil {
		s.log.Debug("ACK outside any dialog dropped", "call_id", callIDOf(req), "key", key)
		return
	}
	c.post(evAck{req: req, key: key})
}

func (s *Server) onInDialog(req *sip.Request, tx sip.ServerTransaction) {
	c, key := s.findDialog(req)
	if c == nil {
		s.log.Debug("request outside any dialog", "method", req.Method, "call_id", callIDOf(req), "key", key)
		s.reply(req, tx, 481, "")
		return
	}
	done := make(chan struct{})
	if !c.post(evRequest{req: req, tx: tx, key: key, done: done}) {
		s.reply(req, tx, 481, "")
		return
	}
	// The transaction must outlive the handler until the call answered it.
	select {
	case <-done:
	case <-c.done:
	}
}

func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if req.To() != nil && tagOf(req.To().Params) != "" {
		s.onInDialog(req, tx)
		return
	}
	if s.isRetransmittedInvite(req) {
		return // absorbed: the call it started answers on its own
	}
	if s.draining.Load() {
		s.reply(req, tx, 503, "")
		return
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() <= 0 {
		s.reply(req, tx, 483, "")
		return
	}
	if s.isLoop(req) {
		s.reply(req, tx, 482, "")
		return
	}
	if max := s.policy.Load().cfg.Calls.MaxCalls; max > 0 && s.activeCalls() >= max {
		s.reply(req, tx, 503, "")
		return
	}
	caller, trunk, ok := s.identify(req, tx)
	if !ok {
		return
	}
	if s.replacing(req, tx, caller) {
		return // INVITE with Replaces (call_replaces.go)
	}
	c := newCall(s, req, tx)
	c.caller, c.fromTrunk = caller, trunk
	if !s.addCall(c) {
		s.reply(req, tx, 503, "")
		return
	}
	if s.overload != nil {
		s.overload.setups.Add(1)
		defer s.overload.setups.Add(-1)
	}
	c.begin()
	// Hold the INVITE transaction until the call has sent its final answer.
	select {
	case <-c.aFinal:
	case <-c.done:
	}
}

// SetTransactionLinger sets how long completed transactions absorb
// retransmissions (sip.transaction_linger): RFC 3261 Timer J and RFC 6026
// Timers L and M. sipgo keeps its timers in package variables, so this is
// process-wide; call it once before serving.
func SetTransactionLinger(d time.Duration) {
	sip.Timer_J, sip.Timer_L, sip.Timer_M = d, d, d
}

// initialKey names a call by the INVITE that started it: a retransmission
// of that INVITE has the same Call-ID, From tag and CSeq.
func initialKey(req *sip.Request) string {
	key := "invite|" + callIDOf(req) + "|"
	if f := req.From(); f != nil {
		key += tagOf(f.Params)
	}
	if cs := req.CSeq(); cs != nil {
		key += "|" + strconv.FormatUint(uint64(cs.SeqNo), 10)
	}
	return key
}

// isRetransmittedInvite: an initial INVITE that already started a call
// still in progress. Its server transaction absorbs retransmissions only
// for sip.transaction_linger after the answer; later ones must not start a
// second call.
func (s *Server) isRetransmittedInvite(req *sip.Request) bool {
	return s.startedCall(initialKey(req))
}

// startedCall reports whether the INVITE named by key (initialKey) started
// a call still in progress.
func (s *Server) startedCall(key string) bool {
	s.mu.Lock()
	c := s.invites[key]
	s.mu.Unlock()
	return c != nil
}

// identify decides who is calling: a trunk by its TLS client certificate
// (tls_clients) or its trusted source address,
// or a user by digest (407 challenge otherwise). Unknown users and wrong
// passwords get the same challenge. ok is false when a response was sent.
func (s *Server) identify(req *sip.Request, tx sip.ServerTransaction) (caller string, trunk *Trunk, ok bool) {
	if strings.EqualFold(req.Transport(), "TLS") {
		if t := s.policy.Load().router.TrunkForCert(s.tlsPeers.cert(req.Source())); t != nil {
			return "trunk:" + t.Name, t, true
		}
	}
	if t := s.policy.Load().router.TrunkForRegistration(req); t != nil {
		return "trunk:" + t.Name, t, true // a call on our registered contact (trunk_register.go)
	}
	if ap, err := netip.ParseAddrPort(req.Source()); err == nil {
		if t := s.policy.Load().router.TrunkFor(ap.Addr()); t != nil {
			return "trunk:" + t.Name, t, true
		}
	}
	user, challenge := s.auth.Authenticate(req, auth.Proxy)
	if challenge != nil {
		// Challenged statelessly, as Kamailio's sl module does: a
		// transaction would wait for the ACK and then keep request,
		// challenge and a goroutine holding the ACK for Timer I (5 s),
		// for every call. A lost challenge costs the caller one INVITE
		// retransmission, which gets a fresh one; the ACK for it finds no
		// dialog and is dropped, as RFC 3261 §17.2.3 allows for a stray ACK.
		tx.Terminate()
		if err := s.srv.WriteResponse(challenge); err != nil {
			s.log.Debug("challenge failed", "call_id", callIDOf(req), "error", err)
		}
		return "", nil, false
	}
	if f := req.From(); f == nil || f.Address.User != user {
		// A user may only call as themselves.
		s.reply(req, tx, 403, "")
		return "", nil, false
	}
	return user, nil, true
}

// isLoop reports whether an initial request already went through us.
func (s *Server) isLoop(req *sip.Request) bool {
	for _, h := range req.GetHeaders("Via") {
		v, ok := h.(*sip.ViaHeader)
		if !ok {
			continue
		}
		if b, _ := v.Params.Get("branch"); strings.HasPrefix(b, branchPrefix) && s.isOwnAddr(v.Host, v.Port) {
			return true
		}
	}
	return false
}

func (s *Server) isOwnAddr(host string, port int) bool {
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return false
	}
	for _, l := range s.listenerList() {
		if l.addr.Addr() == a && int(l.addr.Port()) == port {
			return true
		}
	}
	return false
}

// onStrayResponse sees responses no transaction wanted: a retransmitted 2xx
// from a callee whose INVITE transaction is gone still gets its ACK (and a
// BYE if that dialog lost the race), so the callee stops ringing.
func (s *Server) onStrayResponse(res *sip.Response) {
	if !res.IsSuccess() || res.CSeq() == nil || res.CSeq().MethodName != sip.INVITE || res.From() == nil {
		return
	}
	key := dialogKey(callIDOf(res), tagOf(res.From().Params))
	s.mu.Lock()
	c := s.dialogs[key]
	s.mu.Unlock()
	if c != nil {
		c.post(evStray{res: res})
	}
}

// callList is a snapshot of the calls in progress, in no order.
func (s *Server) callList() []*Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	calls := make([]*Call, 0, len(s.calls))
	for _, c := range s.calls {
		calls = append(calls, c)
	}
	return calls
}

func (s *Server) activeCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

func (s *Server) addCall(c *Call) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining.Load() {
		return false
	}
	s.calls[c.id] = c
	s.callWG.Add(1)
	return true
}

// addInvite records the INVITE a call started from (isRetransmittedInvite).
func (s *Server) addInvite(key string, c *Call) {
	s.mu.Lock()
	s.invites[key] = c
	s.mu.Unlock()
}

func (s *Server) addDialog(key string, c *Call) {
	s.mu.Lock()
	s.dialogs[key] = c
	s.mu.Unlock()
}

// releaseCall frees the call's slot (max_calls) once it has ended; its
// dialogs stay matched while it lingers for late responses.
func (s *Server) releaseCall(c *Call) {
	s.mu.Lock()
	delete(s.calls, c.id)
	s.mu.Unlock()
}

// removeCall forgets a call entirely when its goroutine exits: slot,
// dialogs, and its count in callWG (which Drain waits on, so shutdown lets
// a cancelled call finish its CANCEL/487/ACK exchange).
func (s *Server) removeCall(c *Call, keys []string) {
	s.mu.Lock()
	delete(s.calls, c.id)
	for _, k := range keys {
		if s.dialogs[k] == c {
			delete(s.dialogs, k)
		}
	}
	if s.invites[c.invite] == c {
		delete(s.invites, c.invite)
	}
	done := !c.removed
	c.removed = true
	s.mu.Unlock()
	if done {
		s.callWG.Done()
	}
}

func (s *Server) newCallID() string {
	return "sb-" + s.ids.hex(8) + "-" + strconv.FormatUint(s.seq.Add(1), 10)
}

// Drain stops taking new calls (INVITE gets 503), lets calls in progress
// go on for grace, then ends them with BYE (or CANCEL/503 if unanswered)
// and waits for them to finish.
func (s *Server) Drain(grace time.Duration) {
	s.draining.Store(true)
	s.log.Info("draining", "calls", s.activeCalls(), "grace", grace)
	done := make(chan struct{})
	go func() { s.callWG.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-time.After(grace):
	}
	for _, c := range s.callList() {
		c.post(evShutdown{})
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.log.Warn("calls still open after shutdown", "calls", s.activeCalls())
	}
}

// Close releases sockets and flushes records.
func (s *Server) Close() error {
	if h := s.stopHealth(); h != nil {
		h.wg.Wait()
	}
	s.unregisterAll() // trunk registrations (trunk_register.go)
	var errs []error
	for _, l := range s.listenerList() {
		errs = append(errs, l.closer())
	}
	if s.records.vq != nil {
		s.records.vq.Close() // the last reports go out before the transports close
	}
	errs = append(errs, s.ua.Close())
	errs = append(errs, s.reg.Close())
	errs = append(errs, s.cdr.Close())
	errs = append(errs, s.records.j.Close()) // after the records: the next start finds them all
	errs = append(errs, s.media.Close())
	errs = append(errs, s.secLog.Close())
	s.overload.close()
	return errors.Join(errs...)
}
