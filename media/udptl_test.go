package media

import (
	"bytes"
	"net/netip"
	"testing"
)

// TestDatagramRelay: with the relay on, any datagram (here one whose
// first octet would make the RTP path drop it as STUN) crosses both ways
// unchanged and is counted; after Stop the endpoints are back on RTP.
func TestDatagramRelay(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.1")
	e := newTestEngine(t, addr, 2, nil)
	c := newCall(t, e, addr)
	r := NewDatagramRelay(c.a, c.b)
	r.Start()
	udptl := []byte{0x00, 0x07, 0x00, 0x01, 0xfe} // seq 7, IFP
	c.pa.send(c.a.Local(), udptl)
	if got := c.pb.recv(); !bytes.Equal(got, udptl) {
		t.Fatalf("b's peer got %x, want %x", got, udptl)
	}
	c.pb.send(c.b.Local(), udptl[:3])
	if got := c.pa.recv(); !bytes.Equal(got, udptl[:3]) {
		t.Fatalf("a's peer got %x", got)
	}
	if sa, sb := c.a.Stats(), c.b.Stats(); sa.PacketsIn != 1 || sb.PacketsOut != 1 || sb.PacketsIn != 1 || sa.STUNIn != 0 {
		t.Errorf("stats a %+v b %+v", sa, sb)
	}
	r.Stop()
	c.pa.send(c.a.Local(), udptl)
	eventually(t, func() bool { return c.a.Stats().STUNIn == 1 })
}

// TestReceiveDatagrams: an endpoint with a datagram sink hands it what
// its peer sends, as sent, and WriteDatagram reaches the latched peer;
// after StopDatagrams the endpoint is back on RTP.
func TestReceiveDatagrams(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.1")
	e := newTestEngine(t, addr, 2, nil)
	c := newCall(t, e, addr)
	got := make(chan []byte, 4)
	c.a.ReceiveDatagrams(func(pkt []byte) { got <- bytes.Clone(pkt) })
	udptl := []byte{0x00, 0x07, 0x01, 0xfe, 0x00, 0x00}
	c.pa.send(c.a.Local(), udptl)
	if g := <-got; !bytes.Equal(g, udptl) {
		t.Fatalf("sink got %x, want %x", g, udptl)
	}
	c.a.WriteDatagram(udptl[:4])
	if g := c.pa.recv(); !bytes.Equal(g, udptl[:4]) {
		t.Fatalf("peer got %x", g)
	}
	if s := c.a.Stats(); s.PacketsIn != 1 || s.PacketsOut != 1 {
		t.Errorf("stats %+v", s)
	}
	c.a.StopDatagrams()
	c.pa.send(c.a.Local(), udptl)
	eventually(t, func() bool { return c.a.Stats().STUNIn == 1 })
	if len(got) != 0 {
		t.Error("the sink still got datagrams after StopDatagrams")
	}
}

func TestNegotiateT38(t *testing.T) {
	offer := T38{Version: 1, MaxBitRate: 14400, RateManagement: "transferredTCF", MaxDatagram: 400, UDPEC: "t38UDPFEC", FillBitRemoval: true}
	for _, tt := range []struct {
		name   string
		answer T38
		want   T38
	}{
		{"lower", T38{Version: 0, MaxBitRate: 9600, RateManagement: "localTCF", MaxDatagram: 300, UDPEC: "t38UDPRedundancy"},
			T38{Version: 0, MaxBitRate: 9600, RateManagement: "transferredTCF", MaxDatagram: 300, UDPEC: "t38UDPRedundancy"}},
		{"silent answer", T38{Version: 3},
			T38{Version: 1, MaxBitRate: 14400, RateManagement: "transferredTCF"}},
		{"fill bit removal both", T38{Version: 1, FillBitRemoval: true, UDPEC: "t38UDPFEC"},
			T38{Version: 1, MaxBitRate: 14400, RateManagement: "transferredTCF", UDPEC: "t38UDPFEC", FillBitRemoval: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := NegotiateT38(offer, tt.answer); got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
	sec := T38Section(2, 4000, offer)
	st := ParseStreams([]byte("v=0\r\n" + sec.Text))
	if len(st) != 1 || st[0].Media != "image" || st[0].Port != 4000 || ParseT38(st[0]) != offer {
		t.Errorf("T38Section does not read back: %q → %+v", sec.Text, st)
	}
}
