package media

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/dtls/v4"
	"github.com/pion/dtls/v4/pkg/crypto/selfsign"
	"github.com/pion/dtls/v4/pkg/protocol"
	"github.com/pion/srtp/v3"

	"github.com/switchboard/switchboard/media/rtp"
)

// dtlsPeer is the far end of a DTLS-SRTP leg: a connected datagram
// socket (UDP, or a pion/ice connection) whose reader demultiplexes by
// first byte (RFC 7983) into DTLS records for a pion/dtls connection and
// the rest, and the SRTP contexts it exported.
type dtlsPeer struct {
	wire   net.Conn
	dconn  *dtls.Conn
	cert   tls.Certificate
	tx, rx *srtp.Context
	dtlsIn chan []byte
	other  chan []byte
}

// newDTLSPeer is a peer on a UDP socket connected to the endpoint at to.
func newDTLSPeer(t testing.TB, to netip.AddrPort) *dtlsPeer {
	t.Helper()
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, net.UDPAddrFromAddrPort(to))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return newDTLSPeerOn(t, c)
}

// newDTLSPeerOn is a peer on the connected datagram socket c.
func newDTLSPeerOn(t testing.TB, c net.Conn) *dtlsPeer {
	t.Helper()
	cert, err := selfsign.GenerateSelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	p := &dtlsPeer{wire: c, cert: cert, dtlsIn: make(chan []byte, 64), other: make(chan []byte, 64)}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, err := c.Read(buf)
			if err != nil {
				close(p.dtlsIn)
				return
			}
			pkt := append([]byte(nil), buf[:n]...)
			if pkt[0] >= 20 && pkt[0] <= 63 {
				p.dtlsIn <- pkt
			} else {
				p.other <- pkt
			}
		}
	}()
	return p
}

// recvOther returns the next datagram that is not DTLS.
func (p *dtlsPeer) recvOther(t testing.TB) []byte {
	t.Helper()
	select {
	case pkt := <-p.other:
		return pkt
	case <-time.After(5 * time.Second):
		t.Fatal("peer: nothing received")
		return nil
	}
}

func (p *dtlsPeer) addr() netip.AddrPort { return p.wire.LocalAddr().(*net.UDPAddr).AddrPort() }

// dtlsPeerCertificate is a peer's certificate and its a=fingerprint.
func dtlsPeerCertificate(t testing.TB) (tls.Certificate, string) {
	t.Helper()
	c, err := selfsign.GenerateSelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	return c, "sha-256 " + Fingerprint(c.Certificate[0])
}

func (p *dtlsPeer) fingerprint() string { return "sha-256 " + Fingerprint(p.cert.Certificate[0]) }

// handshake runs the peer's side against the endpoint at to; client is
// the peer's role. It checks the endpoint's certificate against want.
func (p *dtlsPeer) handshake(t testing.TB, to netip.AddrPort, client bool, want string) error {
	t.Helper()
	verify := func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 || "sha-256 "+Fingerprint(raw[0]) != want {
			return errors.New("fingerprint mismatch")
		}
		return nil
	}
	common := []dtls.Option{
		dtls.WithCertificates(p.cert), dtls.WithInsecureSkipVerify(true),
		dtls.WithSRTPProtectionProfiles(dtls.SRTP_AES128_CM_HMAC_SHA1_80),
		dtls.WithMaxVersion(protocol.Version1_2), dtls.WithVerifyPeerCertificate(verify),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	raddr := net.UDPAddrFromAddrPort(to)
	if client {
		opts := make([]dtls.ClientOption, 0, len(common))
		for _, o := range common {
			opts = append(opts, o)
		}
		p.dconn, err = dtls.Client(udpTo{p, raddr}, raddr, opts...)
	} else {
		opts := make([]dtls.ServerOption, 0, len(common)+1)
		for _, o := range common {
			opts = append(opts, o)
		}
		opts = append(opts, dtls.WithClientAuth(dtls.RequireAnyClientCert))
		p.dconn, err = dtls.Server(udpTo{p, raddr}, raddr, opts...)
	}
	if err != nil {
		return err
	}
	t.Cleanup(func() { p.dconn.Close() })
	if err := p.dconn.HandshakeContext(ctx); err != nil {
		return err
	}
	st, _ := p.dconn.ConnectionState()
	cfg := srtp.Config{Profile: srtp.ProtectionProfileAes128CmHmacSha1_80}
	if err := cfg.ExtractSessionKeysFromDTLS(&st, client); err != nil {
		return err
	}
	if p.tx, err = srtp.CreateContext(cfg.Keys.LocalMasterKey, cfg.Keys.LocalMasterSalt, cfg.Profile); err != nil {
		return err
	}
	p.rx, err = srtp.CreateContext(cfg.Keys.RemoteMasterKey, cfg.Keys.RemoteMasterSalt, cfg.Profile)
	return err
}

// udpTo is the peer's DTLS side as pion's PacketConn: it reads the
// demultiplexed records and writes to the endpoint.
type udpTo struct {
	p  *dtlsPeer
	to *net.UDPAddr
}

func (u udpTo) ReadFrom(b []byte) (int, net.Addr, error) {
	pkt, ok := <-u.p.dtlsIn
	if !ok {
		return 0, nil, net.ErrClosed
	}
	return copy(b, pkt), u.to, nil
}
func (u udpTo) WriteTo(b []byte, _ net.Addr) (int, error) { return u.p.wire.Write(b) }
func (u udpTo) Close() error                              { return nil }
func (u udpTo) LocalAddr() net.Addr                       { return u.p.wire.LocalAddr() }
func (u udpTo) SetDeadline(time.Time) error               { return nil }
func (u udpTo) SetReadDeadline(time.Time) error           { return nil }
func (u udpTo) SetWriteDeadline(time.Time) error          { return nil }

func TestDTLSSRTPHandshake(t *testing.T) {
	for _, tc := range []struct {
		name       string
		epIsClient bool
	}{{"switchboard passive", false}, {"switchboard active", true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEngine(t, netip.MustParseAddr("127.0.0.1"), 1, nil)
			ep := newTestEndpoint(t, e)
			cert, err := NewDTLSCertificate()
			if err != nil {
				t.Fatal(err)
			}
			p := newDTLSPeer(t, ep.Local())
			ep.SetRemote(p.addr())
			got := make(chan []byte, 4)
			ep.SetHandler(handlerFunc(func(pkt []byte, h rtp.Header, _ int64) {
				got <- append([]byte(nil), pkt...)
			}))
			keyed := make(chan error, 1)
			if err := ep.StartDTLS(DTLSConfig{Cert: cert, Client: tc.epIsClient, RemoteFingerprint: p.fingerprint(),
				OnKeyed: func(err error) { keyed <- err }}); err != nil {
				t.Fatal(err)
			}
			ep.WriteRTP(rtpPacket(0, 1, 160, 0x42, false)) // before the keys: not sent in the clear
			if err := p.handshake(t, ep.Local(), !tc.epIsClient, cert.Fingerprint()); err != nil {
				t.Fatalf("peer handshake: %v", err)
			}
			select {
			case err := <-keyed:
				if err != nil {
					t.Fatalf("endpoint handshake: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("endpoint not keyed")
			}
			if ep.SRTPSuite() != SuiteSHA1_80 || !ep.DTLSKeyed() {
				t.Fatalf("suite %s keyed %v", ep.SRTPSuite(), ep.DTLSKeyed())
			}
			if st := ep.Stats(); st.PacketsOut != 0 {
				t.Fatalf("sent %d packets before the keys", st.PacketsOut)
			}
			// Peer → endpoint: SRTP unprotected with the exported keys.
			payload := bytes.Repeat([]byte{0xd5}, 160)
			plain := append(rtpPacket(0, 7, 1120, 0x1234, false)[:12], payload...)
			enc, err := p.tx.EncryptRTP(nil, plain, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.wire.Write(enc); err != nil {
				t.Fatal(err)
			}
			select {
			case pkt := <-got:
				if !bytes.Equal(pkt, plain) {
					t.Fatalf("endpoint got %x, want %x", pkt, plain)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("endpoint got no RTP (stats %+v)", ep.Stats())
			}

			// Endpoint → peer: protected with the endpoint's key.
			out := append(rtpPacket(0, 9, 1440, 0x99, false)[:12], payload...)
			ep.WriteRTP(out)
			for {
				pkt := p.recvOther(t)
				if isRTCP(pkt) {
					continue
				}
				dec, err := p.rx.DecryptRTP(nil, pkt, nil)
				if err != nil {
					t.Fatalf("peer decrypt: %v", err)
				}
				if !bytes.Equal(dec, out) {
					t.Fatalf("peer got %x, want %x", dec, out)
				}
				break
			}
		})
	}
}

func TestDTLSFingerprintMismatch(t *testing.T) {
	e := newTestEngine(t, netip.MustParseAddr("127.0.0.1"), 1, nil)
	ep := newTestEndpoint(t, e)
	cert, _ := NewDTLSCertificate()
	p, other := newDTLSPeer(t, ep.Local()), newDTLSPeer(t, ep.Local())
	ep.SetRemote(p.addr())
	keyed := make(chan error, 1)
	if err := ep.StartDTLS(DTLSConfig{Cert: cert, RemoteFingerprint: other.fingerprint(),
		OnKeyed: func(err error) { keyed <- err }}); err != nil {
		t.Fatal(err)
	}
	go p.handshake(t, ep.Local(), true, cert.Fingerprint()) //nolint:errcheck // fails, as it must
	select {
	case err := <-keyed:
		if err == nil {
			t.Fatal("handshake with the wrong certificate keyed the leg")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no handshake result")
	}
	if ep.SRTPSuite() != "none" {
		t.Fatalf("suite %s after a failed handshake", ep.SRTPSuite())
	}
}

func TestFingerprintStable(t *testing.T) {
	c, err := NewDTLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	h, v, err := parseFingerprint(c.Fingerprint())
	if err != nil || h != "sha-256" || v != Fingerprint(c.cert.Certificate[0]) {
		t.Fatalf("fingerprint %q: %v", c.Fingerprint(), err)
	}
	if _, _, err := parseFingerprint("sha-1 AB:CD"); err == nil {
		t.Fatal("sha-1 accepted")
	}
}

// BenchmarkDTLSHandshake is one DTLS-SRTP handshake (DTLS 1.2, ECDHE
// P-256, ECDSA certificates, use_srtp) between an endpoint (passive, the
// DTLS server) and a pion/dtls client over loopback, up to the SRTP keys
// installed on the endpoint. Both sides run in this process, so
// handshakes/s and cpu-ms/op count both; Switchboard's share is about
// half.
func BenchmarkDTLSHandshake(b *testing.B) {
	e := newTestEngine(b, netip.MustParseAddr("127.0.0.1"), 4, nil)
	cert, err := NewDTLSCertificate()
	if err != nil {
		b.Fatal(err)
	}
	t0 := processCPU()
	for b.Loop() {
		ep, err := e.NewEndpoint(nil)
		if err != nil {
			b.Fatal(err)
		}
		p := newDTLSPeer(b, ep.Local())
		ep.SetRemote(p.addr())
		keyed := make(chan error, 1)
		if err := ep.StartDTLS(DTLSConfig{Cert: cert, RemoteFingerprint: p.fingerprint(), OnKeyed: func(err error) { keyed <- err }}); err != nil {
			b.Fatal(err)
		}
		if err := p.handshake(b, ep.Local(), true, cert.Fingerprint()); err != nil {
			b.Fatal(err)
		}
		if err := <-keyed; err != nil {
			b.Fatal(err)
		}
		p.dconn.Close()
		p.wire.Close()
		ep.Close()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "handshakes/s")
	b.ReportMetric(float64(processCPU()-t0)/1e6/float64(b.N), "cpu-ms/op")
}

func TestLoadDTLSCertificate(t *testing.T) {
	dir := t.TempDir()
	c, err := selfsign.GenerateSelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600)
	d, err := LoadDTLSCertificate(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if d.Fingerprint() != "sha-256 "+Fingerprint(c.Certificate[0]) {
		t.Fatalf("fingerprint %s", d.Fingerprint())
	}
	if _, err := LoadDTLSCertificate(keyFile, certFile); err == nil {
		t.Fatal("swapped files loaded")
	}
}
