package b2bua

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"sync"
)

// Client certificates of accepted TLS connections, so that a trunk can be
// identified by its certificate rather than its address
// (trunks[].tls_clients):
//
//	accept ─► peerConn ─► TLS handshake ─► GetConfigForClient: VerifyConnection
//	                                        stores the leaf under the remote address
//	request over TLS ─► identify ─► tlsPeers[req.Source()] ─► Router.TrunkForCert
//	peerConn.Close ─► entry removed
//
// crypto/tls with RequestClientCert checks that the client holds the key
// of the certificate it presents (CertificateVerify) but not its chain:
// a fingerprint needs no chain, a common name is checked against the
// trunk's tls_ca (TrunkForCert).

// tlsPeers maps a TLS connection's remote address to its client's leaf
// certificate.
type tlsPeers struct {
	m sync.Map // string → *x509.Certificate
}

// cert is the client certificate of the connection from addr, or nil.
func (p *tlsPeers) cert(addr string) *x509.Certificate {
	if v, ok := p.m.Load(addr); ok {
		return v.(*x509.Certificate)
	}
	return nil
}

// peerListener wraps accepted connections so their entries go when they
// close.
type peerListener struct {
	net.Listener
	peers *tlsPeers
}

func (l peerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &peerConn{Conn: c, peers: l.peers}, nil
}

// peerConn is an accepted connection whose Close forgets its certificate.
type peerConn struct {
	net.Conn
	peers *tlsPeers
	once  sync.Once
}

func (c *peerConn) Close() error {
	c.once.Do(func() { c.peers.m.Delete(c.RemoteAddr().String()) })
	return c.Conn.Close()
}

// withPeerRecording makes base record each client's certificate in peers
// at the end of its handshake.
func withPeerRecording(base *tls.Config, peers *tlsPeers) *tls.Config {
	cfg := base.Clone()
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		addr := hello.Conn.RemoteAddr().String()
		c := base.Clone()
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) > 0 {
				peers.m.Store(addr, cs.PeerCertificates[0])
			}
			return nil
		}
		return c, nil
	}
	return cfg
}

// TrunkForCert returns the trunk a client certificate identifies, or nil:
// by SHA-256 fingerprint, or by subject common name when the trunk's
// tls_ca issued it for client use.
func (r *Router) TrunkForCert(leaf *x509.Certificate) *Trunk {
	if leaf == nil {
		return nil
	}
	fp := fingerprint(leaf.Raw)
	for _, t := range r.trunks {
		for _, f := range t.Fingerprints {
			if f == fp {
				return t
			}
		}
		if t.clientRoots == nil {
			continue
		}
		for _, cn := range t.CommonNames {
			if leaf.Subject.CommonName != cn {
				continue
			}
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: t.clientRoots,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
				return t
			}
		}
	}
	return nil
}
