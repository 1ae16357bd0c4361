package sipdns

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestDnsmasq resolves against a real DNS server program: dnsmasq (Debian
// package dnsmasq-base) on 127.0.0.1 at a free port, serving the test
// domain from its command line with no upstream and no hosts file.
func TestDnsmasq(t *testing.T) {
	bin, err := exec.LookPath("dnsmasq")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("dnsmasq not installed (Debian package dnsmasq-base)")
		}
		t.Fatal("dnsmasq not installed (Debian package dnsmasq-base)")
	}
	port := freePort(t)
	args := []string{
		"--keep-in-foreground", "--conf-file=/dev/null", "--pid-file=", "--log-facility=-",
		"--port=" + strconv.Itoa(port), "--listen-address=127.0.0.1", "--bind-interfaces",
		"--no-resolv", "--no-hosts", "--local=/example.test/",
		// RFC 3263 §4.1: UDP preferred by NAPTR order, TCP after it.
		"--naptr-record=example.test,10,50,s,SIP+D2U,,_sip._udp.example.test",
		"--naptr-record=example.test,20,50,s,SIP+D2T,,_sip._tcp.example.test",
		"--srv-host=_sip._udp.example.test,backup.example.test,5071,20,10",
		"--srv-host=_sip._udp.example.test,main.example.test,5070,10,10",
		"--srv-host=_sip._tcp.example.test,main.example.test,5072,10,10",
		"--host-record=main.example.test,127.0.0.5,::5",
		"--host-record=backup.example.test,127.0.0.6",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	cmd := exec.Command(bin, args...)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("dnsmasq output:\n%s", log.String())
		}
	})
	server := "127.0.0.1:" + strconv.Itoa(port)
	waitDNS(t, server)

	r, err := New(Config{Servers: []string{server}, Timeout: time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Resolve(context.Background(), URI{Host: "example.test"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"udp [::5]:5070", "udp 127.0.0.5:5070", "udp 127.0.0.6:5071", "tcp [::5]:5072", "tcp 127.0.0.5:5072"}
	if g := targetStrings(got); !equalStrings(g, want) {
		t.Errorf("Resolve(sip:example.test)\n got %q\nwant %q", g, want)
	}
	got, err = r.Resolve(context.Background(), URI{Host: "example.test", Transport: "tcp"})
	if err != nil || !equalStrings(targetStrings(got), want[3:]) {
		t.Errorf("transport=tcp: %q, %v; want %q", targetStrings(got), err, want[3:])
	}
	if _, err := r.Resolve(context.Background(), URI{Host: "missing.example.test"}); err == nil {
		t.Error("a name dnsmasq does not know resolved")
	}
}

// freePort returns a port free for both UDP and TCP on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		pc.Close()
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// waitDNS waits up to 5 s for server to answer a query.
func waitDNS(t *testing.T, server string) {
	t.Helper()
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	q := new(dns.Msg)
	q.SetQuestion("main.example.test.", dns.TypeA)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, _, err := c.Exchange(q, server); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("dnsmasq at %s did not answer within 5 s", server)
}
