package media

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/pion/rtcp"
	prtp "github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// SRTPKeys is the master key material of one direction of a leg.
type SRTPKeys struct {
	Suite string // one of Suites
	Key   []byte // master key
	Salt  []byte // master salt
}

// equal tells whether two key sets are the same.
func (k SRTPKeys) equal(o SRTPKeys) bool {
	return k.Suite == o.Suite && string(k.Key) == string(o.Key) && string(k.Salt) == string(o.Salt)
}

// KeySource gives an endpoint the keys of its SRTP stage: local protects
// what Switchboard sends, remote unprotects what the peer sends. SDES
// (RFC 4568) is one source, from the two a=crypto attributes of an
// offer/answer; DTLS-SRTP (RFC 5764) is another, from the handshake's
// exporter.
type KeySource interface {
	SRTPKeys() (local, remote SRTPKeys, err error)
}

// SDES is a KeySource from an SDES exchange (RFC 4568): Local is the
// a=crypto Switchboard wrote on this leg, Remote the peer's.
type SDES struct{ Local, Remote Crypto }

// SRTPKeys implements KeySource.
func (s SDES) SRTPKeys() (local, remote SRTPKeys, err error) {
	if s.Local.Suite != s.Remote.Suite {
		return local, remote, fmt.Errorf("srtp: suites differ (%s, %s)", s.Local.Suite, s.Remote.Suite)
	}
	return SRTPKeys{s.Local.Suite, s.Local.Key, s.Local.Salt},
		SRTPKeys{s.Remote.Suite, s.Remote.Key, s.Remote.Salt}, nil
}

var _ KeySource = SDES{}

// ErrSRTPAuth counts packets that fail SRTP or SRTCP authentication or
// replay checks.
var ErrSRTPAuth = errors.New("srtp: unprotect failed")

// profile maps a suite name to pion's protection profile.
func profile(suite string) (srtp.ProtectionProfile, error) {
	switch suite {
	case SuiteSHA1_80:
		return srtp.ProtectionProfileAes128CmHmacSha1_80, nil
	case SuiteSHA1_32:
		return srtp.ProtectionProfileAes128CmHmacSha1_32, nil
	case SuiteGCM128:
		return srtp.ProtectionProfileAeadAes128Gcm, nil
	}
	return 0, fmt.Errorf("srtp: unsupported suite %q", suite)
}

// srtpMax is the largest protected packet: a datagram plus the SRTCP index
// and the longest tag.
const srtpMax = 1500 + 4 + 16 + 16

// srtpDir is one direction of the SRTP stage: a pion context and the
// buffers it writes into, under one lock (pion's contexts are not safe for
// concurrent use, and a leg is written from the relay, the playout clock
// and the RTCP clock).
type srtpDir struct {
	mu    sync.Mutex
	keys  SRTPKeys
	ctx   *srtp.Context
	buf   []byte
	hdr   prtp.Header
	rhdr  rtcp.Header
	ssrcs [4]uint32 // SSRCs seen, for carrying their ROC across a re-key
	n     int
}

// replayWindow is the receiving side's replay window in packets
// (RFC 3711 §3.3.2: at least 64).
const replayWindow = 128

// newSRTPDir returns a direction keyed by k; rx adds the replay checks
// of a receiver (RFC 3711 §3.3.2, §3.4).
func newSRTPDir(k SRTPKeys, rx bool) (*srtpDir, error) {
	p, err := profile(k.Suite)
	if err != nil {
		return nil, err
	}
	var opts []srtp.ContextOption
	if rx {
		opts = []srtp.ContextOption{srtp.SRTPReplayProtection(replayWindow), srtp.SRTCPReplayProtection(replayWindow)}
	}
	ctx, err := srtp.CreateContext(k.Key, k.Salt, p, opts...)
	if err != nil {
		return nil, fmt.Errorf("srtp: %w", err)
	}
	return &srtpDir{keys: k, ctx: ctx, buf: make([]byte, srtpMax)}, nil
}

// seen records an SSRC the context has state for.
func (d *srtpDir) seen(ssrc uint32) {
	for i := range d.n {
		if d.ssrcs[i] == ssrc {
			return
		}
	}
	d.ssrcs[d.n%len(d.ssrcs)] = ssrc
	d.n = min(d.n+1, len(d.ssrcs))
}

// rekey returns the direction to use with keys k: d itself when the keys
// are unchanged (the context, and so every stream's ROC and replay window,
// goes on), else a new context carrying each known stream's ROC over
// (RFC 4568 §7.1.4: a new key does not restart the packet index of a
// stream whose SSRC stays).
func (d *srtpDir) rekey(k SRTPKeys, rx bool) (*srtpDir, error) {
	if d != nil && d.keys.equal(k) {
		return d, nil
	}
	nd, err := newSRTPDir(k, rx)
	if err != nil || d == nil {
		return nd, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.n {
		if roc, ok := d.ctx.ROC(d.ssrcs[i]); ok {
			nd.ctx.SetROC(d.ssrcs[i], roc)
			nd.seen(d.ssrcs[i])
		}
	}
	return nd, nil
}

// srtpStage is an endpoint's SRTP/SRTCP transform (RFC 3711): rx
// unprotects what the peer sends, tx protects what Switchboard sends.
// Both directions keep their contexts apart per leg, so a bridge of two
// SRTP legs decrypts with one leg's keys and encrypts with the other's.
// prev is the receiving direction of the keys the peer used before a
// re-INVITE changed them: the peer goes on sending with them until it
// has the answer, so they are tried after rx fails, until a packet
// authenticates with the new keys (RFC 4568 §7.1.4).
type srtpStage struct {
	suite string
	rx    *srtpDir
	tx    *srtpDir
	prev  atomic.Pointer[srtpDir]
}

// unprotectRTP decrypts an SRTP packet into a buffer of the stage, which
// is valid until the next call (one reader goroutine per endpoint).
func (s *srtpStage) unprotectRTP(pkt []byte) ([]byte, bool) {
	out, ok := s.rx.decryptRTP(pkt)
	if ok {
		if s.prev.Load() != nil {
			s.prev.Store(nil) // the peer uses the new keys now
		}
		return out, true
	}
	if p := s.prev.Load(); p != nil {
		return p.decryptRTP(pkt)
	}
	return nil, false
}

// decryptRTP unprotects one SRTP packet into the direction's buffer.
func (d *srtpDir) decryptRTP(pkt []byte) ([]byte, bool) {
	d.mu.Lock()
	out, err := d.ctx.DecryptRTP(d.buf[:0], pkt, &d.hdr)
	if err == nil {
		d.seen(d.hdr.SSRC)
	}
	d.mu.Unlock()
	return out, err == nil
}

// sendSRTP encrypts an RTP packet and sends it to dst through the
// endpoint's RTP socket, under the direction's lock (its buffer is reused).
// It returns the bytes written, or an error.
func (s *srtpStage) sendSRTP(sock *udpSocket, pkt []byte, dst netip.AddrPort) (int, error) {
	d := s.tx
	d.mu.Lock()
	defer d.mu.Unlock()
	out, err := d.ctx.EncryptRTP(d.buf[:0], pkt, &d.hdr)
	if err != nil {
		return 0, err
	}
	d.seen(d.hdr.SSRC)
	return sock.sendTo(out, dst)
}

// unprotectRTCP decrypts an SRTCP compound packet into a buffer of the
// stage, valid until the next call.
func (s *srtpStage) unprotectRTCP(pkt []byte, buf []byte) ([]byte, bool) {
	if out, ok := s.rx.decryptRTCP(pkt, buf); ok {
		return out, true
	}
	if p := s.prev.Load(); p != nil {
		return p.decryptRTCP(pkt, buf)
	}
	return nil, false
}

// decryptRTCP unprotects one SRTCP compound packet into buf.
func (d *srtpDir) decryptRTCP(pkt []byte, buf []byte) ([]byte, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	out, err := d.ctx.DecryptRTCP(buf[:0], pkt, &d.rhdr)
	return out, err == nil
}

// protectRTCP encrypts an RTCP compound packet into buf.
func (s *srtpStage) protectRTCP(pkt []byte, buf []byte) ([]byte, bool) {
	d := s.tx
	d.mu.Lock()
	defer d.mu.Unlock()
	out, err := d.ctx.EncryptRTCP(buf[:0], pkt, &d.rhdr)
	return out, err == nil
}

// SetSRTP makes the endpoint protect what it sends and unprotect what it
// receives with the keys of ks (nil: plain RTP from the next packet on).
// Called again on a re-INVITE, a direction whose keys did not change keeps
// its context, ROC and replay window; one whose keys changed gets a new
// context that carries the ROC of each stream on.
func (ep *Endpoint) SetSRTP(ks KeySource) error {
	ep.srtpMu.Lock()
	defer ep.srtpMu.Unlock()
	if ks == nil {
		ep.srtp.Store(nil)
		return nil
	}
	local, remote, err := ks.SRTPKeys()
	if err != nil {
		return err
	}
	var orx, otx *srtpDir
	if old := ep.srtp.Load(); old != nil {
		orx, otx = old.rx, old.tx
	} else if ep.srtpLast != nil {
		orx, otx = ep.srtpLast.rx, ep.srtpLast.tx
	}
	rx, err := orx.rekey(remote, true)
	if err != nil {
		return err
	}
	tx, err := otx.rekey(local, false)
	if err != nil {
		return err
	}
	s := &srtpStage{suite: local.Suite, rx: rx, tx: tx}
	if orx != nil && rx != orx {
		s.prev.Store(orx) // new keys from the peer: the old ones until it uses them
	}
	ep.srtpLast = s
	ep.srtp.Store(s)
	return nil
}

// SRTPSuite returns the suite protecting the endpoint's media, or "none".
func (ep *Endpoint) SRTPSuite() string {
	if s := ep.srtp.Load(); s != nil {
		return s.suite
	}
	return "none"
}
