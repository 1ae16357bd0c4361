package media

import (
	"bytes"
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/ice/v4"

	"github.com/switchboard/switchboard/media/rtp"
)

// TestICELiteWithPionAgent: a full ICE agent (pion/ice, controlling, as
// a browser is against a lite peer) checks the endpoint's host candidate
// as the SDP writes it, nominates it, then runs DTLS-SRTP over the ICE
// connection; SRTP flows both ways over the nominated pair. An active
// (client) endpoint holds its ClientHello until the pair is nominated.
func TestICELiteWithPionAgent(t *testing.T) {
	t.Run("switchboard passive", func(t *testing.T) { testICELiteWithPionAgent(t, false) })
	t.Run("switchboard active", func(t *testing.T) { testICELiteWithPionAgent(t, true) })
}

func testICELiteWithPionAgent(t *testing.T, active bool) {
	e := newTestEngine(t, netip.MustParseAddr("127.0.0.1"), 1, nil)
	ep := newTestEndpoint(t, e)
	cert, err := NewDTLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	agent, err := ice.NewAgent(&ice.AgentConfig{
		NetworkTypes:    []ice.NetworkType{ice.NetworkTypeUDP4},
		CandidateTypes:  []ice.CandidateType{ice.CandidateTypeHost},
		IncludeLoopback: true,
		InterfaceFilter: func(name string) bool { return name == "lo" },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Close() })
	ufrag, pwd, err := agent.GetLocalUserCredentials()
	if err != nil {
		t.Fatal(err)
	}
	local := NewICECredentials()
	if err := ep.SetICE(ICEConfig{Local: local, Remote: ICECredentials{ufrag, pwd}}); err != nil {
		t.Fatal(err)
	}
	if err := agent.OnCandidate(func(ice.Candidate) {}); err != nil {
		t.Fatal(err)
	}
	if err := agent.GatherCandidates(); err != nil {
		t.Fatal(err)
	}
	cand, err := ice.UnmarshalCandidate(HostCandidate(1, ep.Local()))
	if err != nil {
		t.Fatalf("our a=candidate does not parse: %v", err)
	}
	if err := agent.AddRemoteCandidate(cand); err != nil {
		t.Fatal(err)
	}
	keyed := make(chan error, 1)
	peerCert, peerFP := dtlsPeerCertificate(t)
	if err := ep.StartDTLS(DTLSConfig{Cert: cert, Client: active, RemoteFingerprint: peerFP, OnKeyed: func(err error) { keyed <- err }}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, err := agent.Dial(ctx, local.Ufrag, local.Pwd)
	if err != nil {
		t.Fatalf("ICE: %v (endpoint %+v)", err, ep.ICEStats())
	}
	st := ep.ICEStats()
	if !st.Nominated.IsValid() || st.Checks == 0 {
		t.Fatalf("connected without a nominated pair: %+v", st)
	}
	if d, _ := ep.Remote(); d != st.Nominated {
		t.Fatalf("destination %v, nominated %v", d, st.Nominated)
	}

	p := newDTLSPeerOn(t, conn)
	p.cert = peerCert
	if err := p.handshake(t, ep.Local(), !active, cert.Fingerprint()); err != nil {
		t.Fatalf("DTLS over ICE: %v", err)
	}
	if err := <-keyed; err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 4)
	ep.SetHandler(handlerFunc(func(pkt []byte, _ rtp.Header, _ int64) { got <- append([]byte(nil), pkt...) }))
	plain := append(rtpPacket(0, 3, 480, 0x77, false)[:12], bytes.Repeat([]byte{0x55}, 160)...)
	enc, _ := p.tx.EncryptRTP(nil, plain, nil)
	if _, err := conn.Write(enc); err != nil {
		t.Fatal(err)
	}
	select {
	case pkt := <-got:
		if !bytes.Equal(pkt, plain) {
			t.Fatal("endpoint got another packet")
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no RTP over the ICE pair (%+v)", ep.Stats())
	}
	ep.WriteRTP(plain)
	for {
		pkt := p.recvOther(t)
		if isRTCP(pkt) || pkt[0] < 128 {
			continue // RTCP, or STUN on the ICE connection
		}
		if dec, err := p.rx.DecryptRTP(nil, pkt, nil); err != nil || !bytes.Equal(dec, plain) {
			t.Fatalf("peer decrypt %v", err)
		}
		break
	}
}
