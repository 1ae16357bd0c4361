package media

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v4"
	"github.com/pion/dtls/v4/pkg/crypto/selfsign"
	"github.com/pion/dtls/v4/pkg/protocol"
)

// DTLS-SRTP (RFC 5763, RFC 5764) on the media port. The records arrive
// on the reactor (first byte 20-63, RFC 7983) and go, copied, into the
// leg's packet queue; pion/dtls reads that queue as its net.PacketConn
// and writes back through the endpoint's RTP socket, to the source of
// the peer's records (the nominated ICE pair). The handshake runs on a
// goroutine of its own; when it completes, the SRTP master keys are
// exported (RFC 5764 §4.2, "EXTRACTOR-dtls_srtp") and installed with
// SetSRTP, after which the RTP path is the SDES one: no DTLS code, no
// allocation. Until then nothing is sent to the peer and nothing it
// sends as RTP is accepted (the leg needs keys).
//
//	reactor: DTLS record ─copy─► queue ─► pion/dtls (handshake goroutine)
//	                                         │ ClientHello … Finished (DTLS 1.2)
//	                                         │ peer certificate = a=fingerprint?
//	                                         ▼
//	                           ExportKeyingMaterial → DTLSKeys → SetSRTP

// DTLSCertificate is the certificate of Switchboard's DTLS-SRTP legs,
// one per process (or from config) so the fingerprint of a leg is stable
// across re-INVITEs (RFC 5763 §5).
type DTLSCertificate struct {
	cert        tls.Certificate
	fingerprint string // "sha-256 AB:CD:…"
}

// NewDTLSCertificate generates a self-signed ECDSA P-256 certificate.
func NewDTLSCertificate() (*DTLSCertificate, error) {
	c, err := selfsign.GenerateSelfSigned()
	if err != nil {
		return nil, fmt.Errorf("dtls: certificate: %w", err)
	}
	return newDTLSCertificate(c)
}

// LoadDTLSCertificate reads a PEM certificate and key (config webrtc.cert
// and webrtc.key).
func LoadDTLSCertificate(certFile, keyFile string) (*DTLSCertificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("dtls: certificate: %w", err)
	}
	return newDTLSCertificate(c)
}

func newDTLSCertificate(c tls.Certificate) (*DTLSCertificate, error) {
	if len(c.Certificate) == 0 {
		return nil, errors.New("dtls: certificate: empty chain")
	}
	return &DTLSCertificate{cert: c, fingerprint: "sha-256 " + Fingerprint(c.Certificate[0])}, nil
}

// Fingerprint returns the a=fingerprint attribute value of the
// certificate: "sha-256" and the hash in upper-case hex pairs (RFC 8122 §5).
func (c *DTLSCertificate) Fingerprint() string { return c.fingerprint }

// Fingerprint formats the SHA-256 hash of a DER certificate as
// RFC 8122 §5 writes it: upper-case hex pairs separated by colons.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i, x := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteByte(hex[x>>4])
		b.WriteByte(hex[x&15])
	}
	return b.String()
}

// DTLSConfig starts the DTLS-SRTP transport of an endpoint.
type DTLSConfig struct {
	Cert *DTLSCertificate
	// Client is true when Switchboard is a=setup:active (it sends the
	// ClientHello, RFC 5763 §5), false when passive.
	Client bool
	// RemoteFingerprint is the peer's a=fingerprint ("sha-256 AB:…"):
	// its certificate must hash to it (RFC 5763 §5).
	RemoteFingerprint string
	// OnKeyed runs once on the handshake goroutine when the handshake
	// ended: nil when the leg's SRTP is keyed, else why it failed.
	OnKeyed func(error)
}

// ErrDTLSFingerprint is a peer certificate that does not match the SDP.
var ErrDTLSFingerprint = errors.New("dtls: peer certificate does not match a=fingerprint")

// dtlsHandshakeTimeout bounds a handshake, retransmissions included.
const dtlsHandshakeTimeout = 30 * time.Second

// dtlsTransport is an endpoint's DTLS association: the packet queue the
// reactor fills and pion/dtls reads (it implements net.PacketConn).
type dtlsTransport struct {
	ep    *Endpoint
	cfg   DTLSConfig
	in    chan []byte
	done  chan struct{}
	once  sync.Once
	peer  atomic.Pointer[netip.AddrPort] // source of the last record
	keyed atomic.Bool
	// ready is closed when an active (client) leg may send its
	// ClientHello: at once without ICE, else when a pair is nominated,
	// so the first flight goes where the peer is (RFC 8842 §4.2).
	ready     chan struct{}
	readyOnce sync.Once
	cancel    context.CancelFunc

	dlMu     sync.Mutex
	deadline time.Time
	wake     chan struct{} // closed when the deadline changes
}

// dtlsQueue is how many records wait for the handshake goroutine; more
// are dropped (DTLS retransmits).
const dtlsQueue = 64

// StartDTLS starts the DTLS-SRTP handshake of the leg with cfg. From now
// on the leg needs keys: it sends nothing and accepts no RTP until the
// handshake exported them. Called again with the same role and peer
// fingerprint (a re-INVITE, RFC 5763 §5: fingerprint and role kept) it
// changes nothing; a new fingerprint or role starts a new association.
func (ep *Endpoint) StartDTLS(cfg DTLSConfig) error {
	if cfg.Cert == nil {
		return errors.New("dtls: no certificate")
	}
	if _, _, err := parseFingerprint(cfg.RemoteFingerprint); err != nil {
		return err
	}
	if old := ep.dtls.Load(); old != nil {
		if old.cfg.Client == cfg.Client && strings.EqualFold(old.cfg.RemoteFingerprint, cfg.RemoteFingerprint) {
			return nil
		}
		old.close()
	}
	ep.needKeys.Store(true)
	t := &dtlsTransport{ep: ep, cfg: cfg, in: make(chan []byte, dtlsQueue), done: make(chan struct{}), ready: make(chan struct{})}
	if l := ep.ice.Load(); l == nil || !cfg.Client || l.hasNominated() {
		t.markReady()
	}
	ep.dtls.Store(t)
	ctx, cancel := context.WithTimeout(context.Background(), dtlsHandshakeTimeout)
	t.cancel = cancel
	go t.run(ctx)
	return nil
}

// DTLSKeyed reports whether the leg's DTLS handshake completed and its
// SRTP keys are installed.
func (ep *Endpoint) DTLSKeyed() bool {
	t := ep.dtls.Load()
	return t != nil && t.keyed.Load()
}

// closeDTLS ends the leg's association (Endpoint.Close).
func (ep *Endpoint) closeDTLS() {
	if t := ep.dtls.Load(); t != nil {
		t.close()
	}
}

// receiveDTLS queues a DTLS record for the handshake goroutine, on the
// reactor goroutine; a leg without DTLS counts and drops it.
func (ep *Endpoint) receiveDTLS(pkt []byte, src netip.AddrPort) {
	ep.stats.dtlsIn.Add(1)
	t := ep.dtls.Load()
	if t == nil {
		return
	}
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	if l := ep.ice.Load(); l != nil && !l.validated(src) {
		// With ICE, DTLS comes over a pair the peer's authenticated
		// checks validated (RFC 8842 §4.2): a record from elsewhere
		// neither reaches the handshake nor moves where our flights go.
		ep.stats.rejected.Add(1)
		return
	}
	if p := t.peer.Load(); p == nil || *p != src {
		t.peer.Store(&src)
	}
	select {
	case t.in <- append([]byte(nil), pkt...):
	default: // full: DTLS retransmits
	}
}

// markReady lets an active leg start its handshake.
func (t *dtlsTransport) markReady() { t.readyOnce.Do(func() { close(t.ready) }) }

// run performs the handshake and installs the keys.
func (t *dtlsTransport) run(ctx context.Context) {
	defer t.cancel()
	var err error
	select {
	case <-t.ready:
		err = t.handshake(ctx)
	case <-ctx.Done():
		err = fmt.Errorf("dtls: no ICE pair nominated: %w", ctx.Err())
	}
	if err != nil {
		t.ep.logger().Info("dtls handshake failed", "error", err)
	}
	if t.cfg.OnKeyed != nil {
		select {
		case <-t.done:
			if err == nil {
				err = net.ErrClosed
			}
		default:
		}
		t.cfg.OnKeyed(err)
	}
}

// srtpProfiles are the use_srtp profiles offered, in preference order
// (RFC 5764 §4.1.2, RFC 7714 §14.2).
var srtpProfiles = []dtls.SRTPProtectionProfile{dtls.SRTP_AES128_CM_HMAC_SHA1_80, dtls.SRTP_AEAD_AES_128_GCM}

func (t *dtlsTransport) handshake(ctx context.Context) error {
	hash, want, _ := parseFingerprint(t.cfg.RemoteFingerprint)
	verify := func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 || hash != "sha-256" || !strings.EqualFold(Fingerprint(raw[0]), want) {
			return ErrDTLSFingerprint
		}
		return nil
	}
	opts := []dtls.Option{
		dtls.WithCertificates(t.cfg.Cert.cert),
		dtls.WithSRTPProtectionProfiles(srtpProfiles...),
		dtls.WithMinVersion(protocol.Version1_2), dtls.WithMaxVersion(protocol.Version1_2),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithInsecureSkipVerify(true), // self-signed: the fingerprint is the check (RFC 5763 §5)
		dtls.WithVerifyPeerCertificate(verify),
	}
	raddr := net.UDPAddrFromAddrPort(t.ep.local)
	var conn *dtls.Conn
	var err error
	if t.cfg.Client {
		copts := make([]dtls.ClientOption, 0, len(opts))
		for _, o := range opts {
			copts = append(copts, o)
		}
		conn, err = dtls.Client(t, raddr, copts...)
	} else {
		sopts := make([]dtls.ServerOption, 0, len(opts)+1)
		for _, o := range opts {
			sopts = append(sopts, o)
		}
		sopts = append(sopts, dtls.WithClientAuth(dtls.RequireAnyClientCert))
		conn, err = dtls.Server(t, raddr, sopts...)
	}
	if err != nil {
		return err
	}
	go func() { // closes the association with the transport
		<-t.done
		_ = conn.Close()
	}()
	if err := conn.HandshakeContext(ctx); err != nil {
		return err
	}
	keys, err := dtlsKeys(conn, t.cfg.Client)
	if err != nil {
		return err
	}
	select {
	case <-t.done:
		return net.ErrClosed
	default:
	}
	if err := t.ep.SetSRTP(keys); err != nil {
		return err
	}
	t.keyed.Store(true)
	t.ep.logger().Info("dtls-srtp keyed", "suite", keys.Local.Suite, "client", t.cfg.Client)
	return nil
}

// DTLSKeys is a KeySource from a DTLS-SRTP handshake (RFC 5764 §4.2).
type DTLSKeys struct{ Local, Remote SRTPKeys }

// SRTPKeys implements KeySource.
func (k DTLSKeys) SRTPKeys() (local, remote SRTPKeys, err error) { return k.Local, k.Remote, nil }

var _ KeySource = DTLSKeys{}

// dtlsKeys exports the SRTP master keys of a completed handshake: the
// keying material is client key, server key, client salt, server salt
// (RFC 5764 §4.2); the client protects with the client's.
func dtlsKeys(conn *dtls.Conn, client bool) (DTLSKeys, error) {
	p, ok := conn.SelectedSRTPProtectionProfile()
	if !ok {
		return DTLSKeys{}, errors.New("dtls: peer negotiated no use_srtp profile")
	}
	var suite string
	keyLen, saltLen := 16, 14
	switch p {
	case dtls.SRTP_AES128_CM_HMAC_SHA1_80:
		suite = SuiteSHA1_80
	case dtls.SRTP_AEAD_AES_128_GCM:
		suite, saltLen = SuiteGCM128, 12
	default:
		return DTLSKeys{}, fmt.Errorf("dtls: unsupported srtp profile %#x", uint16(p))
	}
	st, ok := conn.ConnectionState()
	if !ok {
		return DTLSKeys{}, errors.New("dtls: no connection state")
	}
	m, err := st.ExportKeyingMaterial("EXTRACTOR-dtls_srtp", nil, 2*(keyLen+saltLen))
	if err != nil {
		return DTLSKeys{}, fmt.Errorf("dtls: export: %w", err)
	}
	cKey, sKey := m[:keyLen:keyLen], m[keyLen:2*keyLen:2*keyLen]
	cSalt, sSalt := m[2*keyLen:2*keyLen+saltLen:2*keyLen+saltLen], m[2*keyLen+saltLen:]
	c, s := SRTPKeys{suite, cKey, cSalt}, SRTPKeys{suite, sKey, sSalt}
	if client {
		return DTLSKeys{Local: c, Remote: s}, nil
	}
	return DTLSKeys{Local: s, Remote: c}, nil
}

// parseFingerprint splits "sha-256 AB:CD:…" (RFC 8122 §5).
func parseFingerprint(v string) (hash, value string, err error) {
	hash, value, ok := strings.Cut(strings.TrimSpace(v), " ")
	hash, value = strings.ToLower(hash), strings.TrimSpace(value)
	if !ok || hash != "sha-256" || len(value) != 32*3-1 {
		return "", "", fmt.Errorf("dtls: unsupported fingerprint %q (sha-256 only)", v)
	}
	return hash, value, nil
}

func (t *dtlsTransport) close() {
	t.once.Do(func() {
		close(t.done)
		if t.cancel != nil {
			t.cancel()
		}
	})
}

// ReadFrom implements net.PacketConn for pion/dtls: the next queued
// record. A new read deadline wakes a blocked read (pion sets one in the
// past to stop its reader when a handshake fails).
func (t *dtlsTransport) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		t.dlMu.Lock()
		dl, wake := t.deadline, t.wake
		if wake == nil {
			wake = make(chan struct{})
			t.wake = wake
		}
		t.dlMu.Unlock()
		var timeout <-chan time.Time
		if !dl.IsZero() {
			d := time.Until(dl)
			if d <= 0 {
				return 0, nil, errDTLSTimeout
			}
			tm := time.NewTimer(d)
			timeout = tm.C
			defer tm.Stop()
		}
		select {
		case p := <-t.in:
			return copy(b, p), net.UDPAddrFromAddrPort(t.ep.local), nil
		case <-t.done:
			return 0, nil, net.ErrClosed
		case <-timeout:
			return 0, nil, errDTLSTimeout
		case <-wake: // the deadline changed
		}
	}
}

// WriteTo implements net.PacketConn: to the source of the peer's last
// record, else to the leg's destination (nominated pair or SDP address).
func (t *dtlsTransport) WriteTo(b []byte, _ net.Addr) (int, error) {
	select {
	case <-t.done:
		return 0, net.ErrClosed
	default:
	}
	var dst netip.AddrPort
	if p := t.peer.Load(); p != nil {
		dst = *p
	} else if d, ok := t.ep.destination(); ok {
		dst = d
	} else {
		return len(b), nil // nowhere yet: lost like a datagram, retransmitted
	}
	return t.ep.rtp.sendTo(b, dst)
}

// Close implements net.PacketConn.
func (t *dtlsTransport) Close() error { t.close(); return nil }

// LocalAddr implements net.PacketConn.
func (t *dtlsTransport) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(t.ep.local) }

// SetDeadline implements net.PacketConn (the read deadline; writes do not block).
func (t *dtlsTransport) SetDeadline(d time.Time) error { return t.SetReadDeadline(d) }

// SetReadDeadline implements net.PacketConn.
func (t *dtlsTransport) SetReadDeadline(d time.Time) error {
	t.dlMu.Lock()
	t.deadline = d
	if t.wake != nil {
		close(t.wake)
		t.wake = nil
	}
	t.dlMu.Unlock()
	return nil
}

// SetWriteDeadline implements net.PacketConn (writes do not block).
func (t *dtlsTransport) SetWriteDeadline(time.Time) error { return nil }

// errDTLSTimeout is a read past its deadline, a net.Error with Timeout.
var errDTLSTimeout = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string   { return "dtls: i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
