package media

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

// bindingRequest builds a connectivity check from a controlling peer
// (RFC 8445 §7.2.2) with the lite side's credentials.
func bindingRequest(t *testing.T, user, pwd string, useCandidate bool, prio uint32) *stun.Message {
	t.Helper()
	setters := []stun.Setter{stun.TransactionID, stun.BindingRequest, stun.NewUsername(user),
		stun.RawAttribute{Type: stun.AttrPriority, Value: []byte{byte(prio >> 24), byte(prio >> 16), byte(prio >> 8), byte(prio)}},
		stun.RawAttribute{Type: stun.AttrICEControlling, Value: make([]byte, 8)}}
	if useCandidate {
		setters = append(setters, stun.RawAttribute{Type: stun.AttrUseCandidate})
	}
	setters = append(setters, stun.NewShortTermIntegrity(pwd), stun.Fingerprint)
	m, err := stun.Build(setters...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func recvSTUN(t *testing.T, p *peer) *stun.Message {
	t.Helper()
	m := &stun.Message{Raw: p.recv()}
	if err := m.Decode(); err != nil {
		t.Fatalf("response is not STUN: %v", err)
	}
	return m
}

func TestICELiteBinding(t *testing.T) {
	clk := newFakeClock()
	e := newTestEngine(t, netip.MustParseAddr("127.0.0.1"), 2, func(c *Config) { c.Now = clk.Now })
	ep := newTestEndpoint(t, e)
	local, remote := NewICECredentials(), NewICECredentials()
	lost := make(chan struct{}, 2)
	if err := ep.SetICE(ICEConfig{Local: local, Remote: remote, OnConsentLost: func() { lost <- struct{}{} }}); err != nil {
		t.Fatal(err)
	}
	p := newPeer(t, netip.MustParseAddr("127.0.0.1"))
	user := local.Ufrag + ":" + remote.Ufrag

	// A check with the right credentials: success, authenticated with our
	// password, XOR-MAPPED-ADDRESS = the peer's address (RFC 8445 §7.3).
	req := bindingRequest(t, user, local.Pwd, false, 100)
	p.send(ep.Local(), req.Raw)
	resp := recvSTUN(t, p)
	if resp.Type != stun.BindingSuccess || resp.TransactionID != req.TransactionID {
		t.Fatalf("response %v, want binding success for the request", resp.Type)
	}
	if err := stun.NewShortTermIntegrity(local.Pwd).Check(resp); err != nil {
		t.Fatalf("MESSAGE-INTEGRITY: %v", err)
	}
	if err := stun.Fingerprint.Check(resp); err != nil {
		t.Fatalf("FINGERPRINT: %v", err)
	}
	var xor stun.XORMappedAddress
	if err := xor.GetFrom(resp); err != nil || xor.Port != int(p.addr().Port()) || !xor.IP.Equal(p.addr().Addr().AsSlice()) {
		t.Fatalf("XOR-MAPPED-ADDRESS %v (%v), want %v", xor, err, p.addr())
	}
	if n := ep.ICEStats().Nominated; n.IsValid() {
		t.Fatalf("nominated %v without USE-CANDIDATE", n)
	}

	// Wrong password, wrong ufrag: 401 and no nomination (RFC 5389 §10.1.2).
	for _, bad := range []*stun.Message{
		bindingRequest(t, user, remote.Pwd, true, 100),
		bindingRequest(t, "xxxx:"+remote.Ufrag, local.Pwd, true, 100),
		bindingRequest(t, local.Ufrag+":yyyy", local.Pwd, true, 100),
	} {
		p.send(ep.Local(), bad.Raw)
		r := recvSTUN(t, p)
		var ec stun.ErrorCodeAttribute
		if r.Type != stun.BindingError || ec.GetFrom(r) != nil || ec.Code != stun.CodeUnauthorized {
			t.Fatalf("bad credentials answered %v %v", r.Type, ec)
		}
	}
	if st := ep.ICEStats(); st.Nominated.IsValid() || st.Refused != 3 || st.Checks != 1 {
		t.Fatalf("stats after refused checks %+v", st)
	}

	// USE-CANDIDATE nominates the pair: the media destination latches to it.
	ep.SetRemote(netip.MustParseAddrPort("127.0.0.1:9"))
	p.send(ep.Local(), bindingRequest(t, user, local.Pwd, true, 100).Raw)
	recvSTUN(t, p)
	if n := ep.ICEStats().Nominated; n != p.addr() {
		t.Fatalf("nominated %v, want %v", n, p.addr())
	}
	if d, _ := ep.Remote(); d != p.addr() {
		t.Fatalf("destination %v, want the nominated pair %v", d, p.addr())
	}
	// Aggressive nomination from a second candidate of lower priority
	// does not move the pair; one of higher priority does.
	p2 := newPeer(t, netip.MustParseAddr("127.0.0.1"))
	p2.send(ep.Local(), bindingRequest(t, user, local.Pwd, true, 50).Raw)
	recvSTUN(t, p2)
	if d, _ := ep.Remote(); d != p.addr() {
		t.Fatalf("lower-priority nomination moved the pair to %v", d)
	}
	p2.send(ep.Local(), bindingRequest(t, user, local.Pwd, true, 200).Raw)
	recvSTUN(t, p2)
	if d, _ := ep.Remote(); d != p2.addr() {
		t.Fatalf("higher-priority nomination: destination %v, want %v", d, p2.addr())
	}

	// c=0.0.0.0 in a WebRTC re-offer is ICE's placeholder, not hold: the
	// nominated pair stays the destination.
	ep.SetRemote(netip.MustParseAddrPort("0.0.0.0:9"))
	if d, ok := ep.Remote(); !ok || d != p2.addr() {
		t.Fatalf("destination %v %v after c=0.0.0.0, want the nominated pair %v", d, ok, p2.addr())
	}

	// Consent (RFC 7675): a check refreshes it; 30 s without one ends the leg, once.
	clk.Advance(20 * time.Second)
	e.sweepConsent(clk.Now())
	p.send(ep.Local(), bindingRequest(t, user, local.Pwd, false, 100).Raw)
	recvSTUN(t, p)
	clk.Advance(20 * time.Second)
	e.sweepConsent(clk.Now())
	select {
	case <-lost:
		t.Fatal("consent lost although a check came 20 s ago")
	default:
	}
	clk.Advance(11 * time.Second)
	e.sweepConsent(clk.Now())
	e.sweepConsent(clk.Now())
	select {
	case <-lost:
	default:
		t.Fatal("consent not lost after 31 s without a check")
	}
	if len(lost) != 0 {
		t.Fatal("consent lost fired twice")
	}
}

func TestICECredentials(t *testing.T) {
	a, b := NewICECredentials(), NewICECredentials()
	if a == b || len(a.Ufrag) < 4 || len(a.Pwd) < 22 {
		t.Fatalf("credentials %+v %+v", a, b)
	}
	ep := newTestEndpoint(t, newTestEngine(t, netip.MustParseAddr("127.0.0.1"), 1, nil))
	if err := ep.SetICE(ICEConfig{Local: ICECredentials{"abc", "short"}}); err == nil {
		t.Fatal("short credentials accepted")
	}
}

// TestICEDTLSFromCheckedAddressOnly: on an ICE leg a DTLS record from an
// address no authenticated check came from is dropped; once the address
// checked, its records reach the handshake.
func TestICEDTLSFromCheckedAddressOnly(t *testing.T) {
	e := newTestEngine(t, netip.MustParseAddr("127.0.0.1"), 1, nil)
	ep := newTestEndpoint(t, e)
	local, remote := NewICECredentials(), NewICECredentials()
	if err := ep.SetICE(ICEConfig{Local: local, Remote: remote}); err != nil {
		t.Fatal(err)
	}
	cert, _ := NewDTLSCertificate()
	if err := ep.StartDTLS(DTLSConfig{Cert: cert, RemoteFingerprint: cert.Fingerprint()}); err != nil {
		t.Fatal(err)
	}
	p := newPeer(t, netip.MustParseAddr("127.0.0.1"))
	record := []byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // a DTLS 1.2 handshake record header
	p.send(ep.Local(), record)
	eventually(t, func() bool { return ep.Stats().Rejected == 1 })
	p.send(ep.Local(), bindingRequest(t, local.Ufrag+":"+remote.Ufrag, local.Pwd, false, 1).Raw)
	recvSTUN(t, p)
	p.send(ep.Local(), record)
	eventually(t, func() bool { return ep.Stats().DTLSIn == 2 })
	if st := ep.Stats(); st.Rejected != 1 {
		t.Fatalf("record from a checked address rejected: %+v", st)
	}
}
