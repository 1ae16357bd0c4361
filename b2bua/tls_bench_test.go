package b2bua

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/switchboard/switchboard/config"
)

// BenchmarkTLSHandshake is the full handshake of a phone or trunk with a
// tls:// listener (issue 10): the listener's configuration with its
// generated ECDSA certificate, a client with Switchboard's own client
// settings, over an in-memory connection, TLS 1.3 (what Go peers and
// current phones negotiate) and TLS 1.2 (the minimum, older phones).
// Both ends run in this process, so Switchboard's share of a handshake
// is about half of the CPU reported; handshakes/s is per core used.
func BenchmarkTLSHandshake(b *testing.B) {
	srv, err := serverTLSConfig(config.TLS{}, b.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	for _, v := range []struct {
		name string
		max  uint16
	}{{"tls13", tls.VersionTLS13}, {"tls12", tls.VersionTLS12}} {
		b.Run(v.name, func(b *testing.B) {
			cl := clientTLSConfig()
			cl.InsecureSkipVerify = true // the generated certificate; verification is not what is measured
			cl.MaxVersion = v.max
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				c, s := net.Pipe()
				done := make(chan error, 1)
				go func() { done <- tls.Server(s, srv).Handshake() }()
				if err := tls.Client(c, cl).Handshake(); err != nil {
					b.Fatal(err)
				}
				if err := <-done; err != nil {
					b.Fatal(err)
				}
				c.Close()
				s.Close()
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "handshakes/s")
		})
	}
}
