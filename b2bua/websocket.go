package b2bua

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/phone"
)

// SIP over WebSocket (RFC 7118) and the browser phone share one HTTP(S)
// server per ws:// or wss:// listener:
//
//	TCP (TLS for wss) ─► net/http ─┬─ GET /phone/...  browser phone (package phone)
//	                               └─ GET websocket.path (Upgrade: websocket)
//	                                   │ Origin and Sec-WebSocket-Protocol: sip checked
//	                                   ▼ hijacked, the request bytes replayed
//	                     wsConns (a net.Listener) ─► sipgo ServeWS/ServeWSS
//	                                   (handshake, frames, SIP parsing)
//
// sipgo's WebSocket transport accepts from a net.Listener and does the
// handshake itself; the HTTP server hands it each connection it hijacks,
// with the handshake request it already read put back in front of the
// connection's bytes (replayConn). When the connection closes, the
// registrations made over it end (registrar.DropConnection) and calls
// with a leg over it end as if that leg had hung up (RFC 7118 §5: nothing
// can reach a browser but its own connection).

// wsHandshakeTimeout bounds how long a browser may take to send its
// handshake request.
const wsHandshakeTimeout = 10 * time.Second

// wsFront is the HTTP(S) server of one ws:// or wss:// listener.
type wsFront struct {
	s       *Server
	network string // "WS" or "WSS"
	path    string
	origins []string // allowed origins (normalized); empty: same host only
	conns   *wsConns
	http    *http.Server
}

// listenWS binds a ws:// or wss:// listener: its HTTP(S) server, and
// sipgo's WebSocket transport behind it.
func (s *Server) listenWS(cl config.Listener) (listener, error) {
	cfg := s.policy.Load().cfg
	network := strings.ToUpper(cl.Transport)
	tl, err := net.Listen("tcp", cl.Addr.String())
	if err != nil {
		return listener{}, err
	}
	var ln net.Listener = tl
	if network == "WSS" {
		if s.tlsServer == nil {
			c, err := serverTLSConfig(cfg.SIP.TLS, cfg.State.Dir, s.log)
			if err != nil {
				_ = tl.Close()
				return listener{}, err
			}
			s.tlsServer = withPeerRecording(c, &s.tlsPeers)
		}
		c := s.tlsServer.Clone()
		c.NextProtos = []string{"http/1.1"} // WebSocket needs HTTP/1.1 (RFC 6455 §4.1)
		// Browsers would offer the user their client certificates: a
		// browser authenticates by digest, like any phone.
		c.ClientAuth = tls.NoClientCert
		c.GetConfigForClient = nil // the tls:// listeners' client-certificate recording
		ln = tls.NewListener(tl, c)
	}
	f := &wsFront{
		s: s, network: network,
		path:    cfg.WebSocket.Path,
		origins: cfg.WebSocket.AllowedOrigins,
		conns:   newWSConns(tl.Addr()),
	}
	mux := http.NewServeMux()
	mux.HandleFunc(f.path, f.upgrade)
	if cfg.WebSocket.PhoneEnabled() {
		mux.Handle("/phone/", phone.Handler(phone.Options{Domain: cfg.SIP.Domain, WSPath: f.path, Quality: s.phoneQuality}))
		mux.Handle("/phone", http.RedirectHandler("/phone/", http.StatusFound))
		mux.Handle("/{$}", http.RedirectHandler("/phone/", http.StatusFound))
	}
	f.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: wsHandshakeTimeout,
	}
	go func() { _ = f.http.Serve(ln) }()
	go func() {
		var err error
		if network == "WSS" {
			err = s.srv.ServeWSS(f.conns)
		} else {
			err = s.srv.ServeWS(f.conns)
		}
		if err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Warn("websocket transport stopped", "transport", cl.Transport, "error", err)
		}
	}()
	closer := func() error {
		err := f.http.Close()
		f.conns.Close()
		return err
	}
	return listener{network: network, addr: tl.Addr().(*net.TCPAddr).AddrPort(), closer: closer}, nil
}

// upgrade checks a WebSocket handshake (RFC 6455 §4.2.1, RFC 7118 §4) and
// hands the connection to sipgo's WebSocket transport.
func (f *wsFront) upgrade(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || !headerHas(r.Header, "Connection", "upgrade") || !headerHas(r.Header, "Upgrade", "websocket") {
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, "SIP over WebSocket: send a WebSocket handshake (RFC 7118)", http.StatusUpgradeRequired)
		return
	}
	// RFC 7118 §4.1: the client asks for the "sip" subprotocol; a
	// server that would not speak it refuses the handshake.
	if !headerHas(r.Header, "Sec-WebSocket-Protocol", "sip") {
		http.Error(w, "Sec-WebSocket-Protocol must include sip (RFC 7118 §4.1)", http.StatusBadRequest)
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && !f.originAllowed(origin, r.Host) {
		f.s.log.Info("websocket origin refused", "origin", origin, "host", r.Host, "remote", r.RemoteAddr)
		http.Error(w, "origin not allowed (websocket.allowed_origins)", http.StatusForbidden)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "connection cannot be upgraded", http.StatusInternalServerError)
		return
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		f.s.log.Debug("websocket hijack failed", "remote", r.RemoteAddr, "error", err)
		return
	}
	_ = conn.SetDeadline(time.Time{}) // the HTTP server's deadlines do not apply to the SIP flow
	var head bytes.Buffer
	fmt.Fprintf(&head, "GET %s HTTP/1.1\r\nHost: %s\r\n", r.RequestURI, r.Host)
	_ = r.Header.Write(&head)
	head.WriteString("\r\n")
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		head.Write(b)
	}
	raddr := conn.RemoteAddr().String()
	rc := &replayConn{Conn: conn, r: io.MultiReader(bytes.NewReader(head.Bytes()), conn)}
	rc.onClose = func() { f.s.connectionClosed(f.network, raddr) }
	if !f.conns.push(rc) {
		_ = conn.Close()
	}
}

// originAllowed applies websocket.allowed_origins, or, when it is empty,
// accepts only pages served from the host the handshake went to (the
// browser phone itself): a page elsewhere must not use a logged-in
// browser's credentials or the server's users (cross-site WebSocket
// hijacking).
func (f *wsFront) originAllowed(origin, host string) bool {
	norm, err := config.NormalizeOrigin(origin)
	if err != nil {
		return false
	}
	if len(f.origins) > 0 {
		return slices.Contains(f.origins, norm)
	}
	_, rest, _ := strings.Cut(norm, "://")
	return strings.EqualFold(rest, host)
}

// headerHas reports whether a comma-separated header lists token (case
// insensitive).
func headerHas(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// connectionClosed ends what lived on a WebSocket connection that closed:
// its registrations and the calls with a leg over it.
func (s *Server) connectionClosed(network, raddr string) {
	n := s.reg.DropConnection(network, raddr)
	for _, c := range s.callList() {
		c.post(evFlowClosed{transport: network, source: raddr})
	}
	s.log.Debug("websocket closed", "transport", network, "remote", raddr, "bindings", n)
}

// evFlowClosed tells a call that a WebSocket connection closed.
type evFlowClosed struct{ transport, source string }

// onFlowClosed ends the call when one of its legs ran over the closed
// connection, as if that leg had hung up: nothing reaches it any more.
func (c *Call) onFlowClosed(e evFlowClosed) {
	if c.state == stateEnded {
		return
	}
	on := func(l *Leg) bool {
		return l != nil && strings.EqualFold(l.Transport, e.transport) && l.Dest == e.source
	}
	if c.state == stateEarly {
		// A ringing browser that went away: its fork fails with 480
		// Temporarily Unavailable at once (its INVITE transaction would
		// otherwise wait for ring_timeout).
		for _, out := range slices.Clone(c.outs) {
			if out.fork && out.method == sip.INVITE && out.final == 0 && on(out.leg) && !on(c.a) {
				out.finalSeen.Store(true) // its transaction's end is no news
				if out.tx != nil {
					out.tx.Terminate()
				}
				c.settle(out)
				c.onFinal(out, 480, nil)
			}
		}
	}
	switch {
	case c.state == stateEnded:
	case on(c.a) && c.state == stateEarly:
		c.log.Info("caller's websocket closed", "leg", "a")
		c.fail(487, cdr.HangupCaller, "websocket closed", cdr.Cancelled)
	case on(c.a):
		c.log.Info("caller's websocket closed", "leg", "a")
		c.hangup(c.a, cdr.HangupCaller, "websocket closed")
	case on(c.b):
		c.log.Info("callee's websocket closed", "leg", "b")
		c.hangup(c.b, cdr.HangupCallee, "websocket closed")
	}
}

// calleeOnWebSocket reports whether the called user is reached over SIP
// over WebSocket only: every contact registered over ws or wss, so every
// fork goes to a browser and the callee's leg is WebRTC (calleeProfile,
// webrtc_leg.go). A user with both a browser and another phone keeps
// the RTP profile (one profile serves all forks): the browser's fork then
// fails (488) and the other phone rings.
func (c *Call) calleeOnWebSocket() bool {
	bs := c.host.contacts(c.target.Number)
	for _, b := range bs {
		if !b.ConnectionBound() {
			return false
		}
	}
	return len(bs) > 0
}

// phoneQuality is the browser phone's view of a live call: its quality
// record, found by either leg's SIP Call-ID (which only the parties know).
func (s *Server) phoneQuality(callID string) (any, bool) {
	if callID == "" {
		return nil, false
	}
	for _, ci := range s.Calls() {
		if ci.ACallID == callID || ci.BCallID == callID {
			return struct {
				State   string `json:"state"`
				CodecA  string `json:"codec_a,omitempty"`
				CodecB  string `json:"codec_b,omitempty"`
				Quality any    `json:"quality,omitempty"`
			}{ci.State, ci.CodecA, ci.CodecB, ci.Quality}, true
		}
	}
	return nil, false
}

// wsConns is the net.Listener sipgo's WebSocket transport accepts from:
// the connections the HTTP server hijacked.
type wsConns struct {
	addr   net.Addr
	ch     chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newWSConns(addr net.Addr) *wsConns {
	return &wsConns{addr: addr, ch: make(chan net.Conn), closed: make(chan struct{})}
}

// push hands a connection to the transport; false once closed.
func (l *wsConns) push(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.closed:
		return false
	}
}

// Accept returns the next hijacked connection.
func (l *wsConns) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close stops Accept.
func (l *wsConns) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

// Addr is the HTTP server's address.
func (l *wsConns) Addr() net.Addr { return l.addr }

// replayConn is a hijacked connection whose first bytes are the handshake
// request net/http already read; onClose runs once, when sipgo closes it
// (read error, EOF or shutdown).
type replayConn struct {
	net.Conn
	r       io.Reader
	once    sync.Once
	onClose func()
}

func (c *replayConn) Read(b []byte) (int, error) { return c.r.Read(b) }

func (c *replayConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		if c.onClose != nil {
			go c.onClose()
		}
	})
	return err
}

var (
	_ net.Listener = (*wsConns)(nil)
	_ net.Conn     = (*replayConn)(nil)
)
