package b2bua

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/config"
)

// Trunk transports toward a trunk (issue 10, item 2: TLS first).
//
//	transport: auto ──probe host:5061 (TCP connect, cached)──► answers ──► TLS to 5061
//	                                                       └─► silent ──► tls: required? 503 : the URI's transport
//	transport: tls ──► TLS to the URI's port (5061 by default)
//
// A TLS connection to a trunk verifies the trunk's certificate against
// its tls_ca (or the system roots) and the host it was dialled by, and
// presents tls_cert when configured (mutual TLS). A certificate that fails
// fails the call: a TLS port that answers is never silently downgraded.

// tlsProbeTTL is how long the result of an auto trunk's TLS probe is kept.
const tlsProbeTTL = time.Minute

// tlsProbeTimeout bounds the TCP connect of an auto trunk's TLS probe.
const tlsProbeTimeout = time.Second

// errTLSUnavailable: a trunk with tls: required whose TLS port did not
// answer.
var errTLSUnavailable = errors.New("TLS required and the trunk's TLS port does not answer")

// trunkTLS is the TLS side of a trunk: its mode and, for TLS, the client
// configuration and where TLS goes.
type trunkTLS struct {
	mode     string // config.TransportAuto, TLS, TCP or UDP
	required bool
	// tlsDest is host:port of the trunk's TLS port.
	tlsDest string
	// plain is the transport and destination when TLS is not used.
	plainTransport, plainDest string
	// client dials the trunk over TLS.
	client *tls.Config

	probeMu    sync.Mutex
	probeUntil time.Time
	probeOK    bool
}

// newTrunkTLS builds a trunk's TLS side from its validated configuration;
// host and port are where its requests go (outbound proxy or URI host).
func newTrunkTLS(tc config.Trunk, host string, port int, plainTransport string) (*trunkTLS, error) {
	c := tc.TLS
	tt := &trunkTLS{mode: c.Transport, required: c.Required(), plainTransport: plainTransport}
	if tc.ParsedURI.Scheme == "sips" {
		// RFC 5630 §4: a sips URI is reached over TLS on every hop.
		tt.mode, tt.required = config.TransportTLS, true
	}
	if tt.mode == "" {
		tt.mode = strings.ToLower(plainTransport)
	}
	plainPort, tlsPort := port, port
	if port == 0 {
		plainPort, tlsPort = sip.DefaultPort(plainTransport), sip.DefaultTlsPort
	}
	if tt.mode == config.TransportAuto {
		tlsPort = sip.DefaultTlsPort // RFC 3263 §4.2 without DNS: the sips default port
		if strings.EqualFold(plainTransport, "TLS") {
			plainTransport = "UDP"
			tt.plainTransport = plainTransport
		}
	}
	h := strings.Trim(host, "[]")
	tt.tlsDest = net.JoinHostPort(h, strconv.Itoa(tlsPort))
	tt.plainDest = net.JoinHostPort(h, strconv.Itoa(plainPort))
	if tt.mode != config.TransportTLS && tt.mode != config.TransportAuto {
		tt.plainTransport = strings.ToUpper(tt.mode)
		return tt, nil
	}
	var roots *x509.CertPool // nil: the system roots
	if c.CA != "" {
		pem, err := os.ReadFile(c.CA)
		if err != nil {
			return nil, fmt.Errorf("trunk %s: tls_ca: %w", tc.Name, err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("trunk %s: tls_ca %s: no PEM certificate in it", tc.Name, c.CA)
		}
	}
	cfg := clientTLSConfig()
	if c.Cert != "" {
		cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
		if err != nil {
			return nil, fmt.Errorf("trunk %s: tls_cert: %w", tc.Name, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	// Verified here rather than by crypto/tls so that the refusal names
	// the trunk (Go's documented VerifyConnection pattern).
	cfg.InsecureSkipVerify = true
	name := tc.Name
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if err := verifyPeer(cs, roots, cs.ServerName); err != nil {
			return fmt.Errorf("TLS peer certificate refused trunk=%s host=%s: %w", name, cs.ServerName, err)
		}
		return nil
	}
	tt.client = cfg
	return tt, nil
}

// verifyPeer checks a server's chain against roots (nil: the system's)
// and its name (a DNS name or an IP address).
func verifyPeer(cs tls.ConnectionState, roots *x509.CertPool, name string) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, DNSName: name,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return err
}

// route is the transport and destination of the next request to the
// trunk: TLS when the mode says so or an auto probe finds the TLS port.
// Without a tls:// listener of our own (its address goes into Via and
// Contact) auto does not try TLS.
func (tt *trunkTLS) route(now time.Time, tlsListening bool) (transport, dest string, err error) {
	switch tt.mode {
	case config.TransportTLS:
		return "TLS", tt.tlsDest, nil
	case config.TransportAuto:
		if tlsListening && tt.probe(now) {
			return "TLS", tt.tlsDest, nil
		}
		if tt.required {
			return "", "", errTLSUnavailable
		}
	}
	return tt.plainTransport, tt.plainDest, nil
}

// probe reports whether the trunk's TLS port takes a TCP connection,
// asking at most once per tlsProbeTTL. Calls to the trunk during a probe
// wait for it.
func (tt *trunkTLS) probe(now time.Time) bool {
	tt.probeMu.Lock()
	defer tt.probeMu.Unlock()
	if now.Before(tt.probeUntil) {
		return tt.probeOK
	}
	conn, err := net.DialTimeout("tcp", tt.tlsDest, tlsProbeTimeout)
	tt.probeOK = err == nil
	if conn != nil {
		_ = conn.Close()
	}
	tt.probeUntil = now.Add(tlsProbeTTL)
	return tt.probeOK
}

// tlsDialConfig is the client configuration of a new TLS connection to
// raddr (sip.WithTransportLayerTLSDialConfig): the trunk's, when raddr is
// a trunk's TLS destination, else nil (the default: system roots).
func (s *Server) tlsDialConfig(raddr sip.Addr) *tls.Config {
	p := s.policy.Load()
	if p == nil {
		return nil
	}
	port := strconv.Itoa(raddr.Port)
	if raddr.Hostname != "" {
		if c := p.router.tlsByDest[net.JoinHostPort(raddr.Hostname, port)]; c != nil {
			return c
		}
	}
	if raddr.IP != nil {
		addr := net.JoinHostPort(raddr.IP.String(), port)
		if c := p.router.tlsByDest[addr]; c != nil {
			return c
		}
		return p.router.dnsTLSConfig(addr)
	}
	return nil
}

// provisionTLS builds the trunk's TLS side: the transport choice, the
// client configuration and the client certificates that identify it.
func (t *Trunk) provisionTLS(tc config.Trunk) error {
	host, port := trunkHostPort(tc)
	tt, err := newTrunkTLS(tc, host, port, t.Transport)
	if err != nil {
		return err
	}
	t.tls = tt
	t.Fingerprints, t.CommonNames = tc.TLS.Fingerprints, tc.TLS.CommonNames
	if len(t.CommonNames) > 0 {
		pem, err := os.ReadFile(tc.TLS.CA)
		if err != nil {
			return fmt.Errorf("trunk %s: tls_ca: %w", tc.Name, err)
		}
		t.clientRoots = x509.NewCertPool()
		t.clientRoots.AppendCertsFromPEM(pem)
	}
	return nil
}

// route is the transport and destination of the trunk's next call.
func (t *Trunk) route(now time.Time, tlsListening bool) (transport, dest string, err error) {
	if t.tls == nil { // a Trunk built in code (tests)
		return t.Transport, t.Dest, nil
	}
	return t.tls.route(now, tlsListening)
}

// errSIPSInsecure: a request for a sips URI that can only go on over a
// transport other than TLS; RFC 5630 §4.1 has it fail rather than
// continue insecurely (480 here).
var errSIPSInsecure = errors.New("sips request and no TLS path to the target")

// isSIPS reports whether a request is for a sips URI (RFC 5630).
func isSIPS(req *sip.Request) bool {
	return strings.EqualFold(req.Recipient.Scheme, "sips")
}
