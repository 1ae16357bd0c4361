package registrar

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/auth"
)

// TestLoopbackSipgo registers through real sipgo transports on 127.0.0.1
// (UDP and TCP) with sipgo's own digest client, and checks the binding
// records the transport and the source the REGISTER came from.
func TestLoopbackSipgo(t *testing.T) {
	if testing.Short() {
		t.Skip("network")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a := auth.New("127.0.0.1", func(u string) (string, bool) { p, ok := passwords[u]; return p, ok }, time.Minute, nil)
	r, err := New(Config{StateDir: t.TempDir(), SweepInterval: -1}, a, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	srvUA, _ := sipgo.NewUA()
	defer srvUA.Close()
	srv, _ := sipgo.NewServer(srvUA)
	srv.OnRegister(r.HandleRegister)
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.ServeUDP(udp)
	go srv.ServeTCP(tcp)

	for _, tc := range []struct{ transport, addr string }{
		{"UDP", udp.LocalAddr().String()},
		{"TCP", tcp.Addr().String()},
	} {
		t.Run(tc.transport, func(t *testing.T) {
			ua, _ := sipgo.NewUA(sipgo.WithUserAgent("1000"))
			defer ua.Close()
			cl, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
			if err != nil {
				t.Fatal(err)
			}
			var ruri sip.Uri
			sip.ParseUri("sip:127.0.0.1:"+strings.Split(tc.addr, ":")[1]+";transport="+strings.ToLower(tc.transport), &ruri)
			req := sip.NewRequest(sip.REGISTER, ruri)
			req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "1000", Host: "127.0.0.1"}})
			req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "1000", Host: "127.0.0.1"}, Params: sip.HeaderParams{{K: "tag", V: "t1"}}})
			req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "1000", Host: "127.0.0.1", Port: 15060}})
			req.AppendHeader(sip.NewHeader("Expires", "120"))
			res, err := cl.Do(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != 401 {
				t.Fatalf("first response %d", res.StatusCode)
			}
			res, err = cl.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "1000", Password: "pw-1000"})
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != 200 {
				t.Fatalf("after digest: %s", res)
			}
			bs := r.Lookup("1000")
			var b *Binding
			for i := range bs {
				if bs[i].Transport == tc.transport {
					b = &bs[i]
				}
			}
			if b == nil {
				t.Fatalf("no %s binding in %+v", tc.transport, bs)
			}
			host, port, err := net.SplitHostPort(b.Source)
			if err != nil || host != "127.0.0.1" || port == "0" {
				t.Errorf("source %q", b.Source)
			}
		})
	}
}
