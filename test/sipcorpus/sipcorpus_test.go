package sipcorpus

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const corpusDir = "../../b2bua/testdata/torture"

func TestMatches(t *testing.T) {
	tests := []struct {
		want, got string
		ok        bool
	}{
		{"400", "400", true},
		{"400", "401", false},
		{"accept", "401", true},
		{"accept", "1xx", true},
		{"accept", "400", false},
		{"accept", "500", false},
		{"accept", "drop", false},
		{"accept", "unparsable", false},
		{"accept+accept", "401+407", true},
		{"accept+accept", "401", false},
		{"400+close", "400+close", true},
		{"400+close", "400", false},
		{"wait", "drop", true},
		{"drop", "", true},
		{"drop", "close", false},
		{"200", "drop", false},
	}
	for _, tc := range tests {
		if got := Matches(tc.want, tc.got); got != tc.ok {
			t.Errorf("Matches(%q, %q) = %v, want %v", tc.want, tc.got, got, tc.ok)
		}
	}
}

func msg(lines ...string) []byte { return []byte(strings.Join(lines, "\r\n") + "\r\n\r\n") }

func TestTxKey(t *testing.T) {
	opt := func(via, cseq string) []byte {
		return msg("OPTIONS sip:a@b SIP/2.0", "Via: "+via, "From: <sip:x@y>;tag=1", "To: <sip:a@b>", "Call-ID: c1", "CSeq: "+cseq, "Content-Length: 0")
	}
	tests := []struct {
		name string
		a, b []byte
		same bool
	}{
		{"same message", opt("SIP/2.0/UDP h;branch=z9hG4bK1", "1 OPTIONS"), opt("SIP/2.0/UDP h;branch=z9hG4bK1", "1 OPTIONS"), true},
		{"other branch", opt("SIP/2.0/UDP h;branch=z9hG4bK1", "1 OPTIONS"), opt("SIP/2.0/UDP h;branch=z9hG4bK2", "1 OPTIONS"), false},
		{"default port spelled out", opt("SIP/2.0/UDP h;branch=z9hG4bK1", "1 OPTIONS"), opt("SIP/2.0/UDP h:5060;branch=z9hG4bK1", "1 OPTIONS"), true},
		{"other method", opt("SIP/2.0/UDP h;branch=z9hG4bK1", "1 OPTIONS"), opt("SIP/2.0/UDP h;branch=z9hG4bK1", "1 INVITE"), false},
		{"rfc 2543: same call-id and cseq", opt("SIP/2.0/UDP h", "1 OPTIONS"), opt("SIP/2.0/UDP g;branch=x", "1 OPTIONS"), true},
		{"rfc 2543: other cseq", opt("SIP/2.0/UDP h", "1 OPTIONS"), opt("SIP/2.0/UDP h", "2 OPTIONS"), false},
	}
	for _, tc := range tests {
		ka, kb := TxKey(tc.a), TxKey(tc.b)
		if ka == "" || kb == "" {
			t.Errorf("%s: empty key %q %q", tc.name, ka, kb)
		}
		if (ka == kb) != tc.same {
			t.Errorf("%s: keys %q and %q, want same=%v", tc.name, ka, kb, tc.same)
		}
	}
	for _, data := range [][]byte{
		msg("SIP/2.0 200 OK", "Via: SIP/2.0/UDP h;branch=z9hG4bK1", "CSeq: 1 OPTIONS"),
		msg("OPTIONS sip:a@b SIP/2.0", "CSeq: 1 OPTIONS"),
		[]byte("garbage"),
	} {
		if k := TxKey(data); k != "" {
			t.Errorf("TxKey(%q) = %q, want none", data, k)
		}
	}
}

func TestPlan(t *testing.T) {
	a := Case{File: "a", UDP: "accept", TCP: "accept", Server: "200", Data: msg("OPTIONS sip:a@b SIP/2.0", "Via: SIP/2.0/UDP h;branch=z9hG4bK1", "CSeq: 1 OPTIONS")}
	b := Case{File: "b", UDP: "400", TCP: "400+close", Server: "-", Data: a.Data} // same key as a
	c := Case{File: "c", UDP: "drop", TCP: "drop", Server: "-", Data: []byte("junk")}
	sends, n := Plan([]Case{a, b, c})
	want := []struct {
		file, transport, want string
		instance              int
	}{
		{"a", "udp", "200", 0}, {"b", "udp", "400", 1}, {"c", "udp", "drop", 0},
		{"a", "tcp", "200", 2}, {"b", "tcp", "400+close", 3}, {"c", "tcp", "drop", 0},
	}
	if n != 4 || len(sends) != len(want) {
		t.Fatalf("Plan: %d sends on %d instances, want %d on 4", len(sends), n, len(want))
	}
	for i, w := range want {
		s := sends[i]
		if s.Case.File != w.file || s.Transport != w.transport || s.Want != w.want || s.Instance != w.instance {
			t.Errorf("send %d = %s/%s want %s on %d, want %s/%s want %s on %d", i, s.Case.File, s.Transport, s.Want, s.Instance, w.file, w.transport, w.want, w.instance)
		}
	}
	if _, n := Plan([]Case{c}); n != 1 {
		t.Errorf("Plan without keys needs %d instances, want 1", n)
	}
}

func TestLoad(t *testing.T) {
	cases, err := Load(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]bool{}
	for _, c := range cases {
		if len(c.Data) == 0 {
			t.Errorf("%s: no data", c.File)
		}
		files[c.File] = true
	}
	// RFC 4475: 49 messages + test.dat; RFC 5118: 12.
	if len(cases) != 62 || !files["rfc4475/wsinv.dat"] || !files["rfc5118/ipv6-good"] {
		t.Errorf("Load: %d cases (%v), want 62 with wsinv.dat and ipv6-good", len(cases), files)
	}

	// A broken copy: a code the RFC does not name, and a missing row.
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rfc"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("rfc/EXPECTATIONS.tsv", "file\ttext\nx.dat\t400 Bad Request\ny.dat\taccept\n")
	write("rfc/x.dat", "X")
	write("expect.tsv", "# comment\nfile\tudp\ttcp\tserver\tnote\nrfc/x.dat\t403\t400\t-\tn\n")
	_, err = Load(dir)
	if err == nil || !strings.Contains(err.Error(), "says 403") || !strings.Contains(err.Error(), "rfc/y.dat has no row") {
		t.Errorf("Load of a broken copy: %v", err)
	}
}

// fakeServer answers on loopback: UDP with the given answer, TCP with the
// answer and then a close when closeAfter is set.
func fakeServer(t *testing.T, network, answer string, closeAfter bool) string {
	t.Helper()
	switch network {
	case "udp":
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close() })
		go func() {
			buf := make([]byte, 65536)
			for {
				_, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				if answer != "" {
					_, _ = pc.WriteTo([]byte(answer), from)
				}
			}
		}()
		return pc.LocalAddr().String()
	default:
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					buf := make([]byte, 65536)
					if _, err := c.Read(buf); err != nil {
						return
					}
					_, _ = c.Write([]byte(answer))
					if !closeAfter {
						_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
						_, _ = c.Read(buf) // hold the connection until the client goes
					}
				}()
			}
		}()
		return ln.Addr().String()
	}
}

func TestExchange(t *testing.T) {
	res := func(code string) string {
		return string(msg("SIP/2.0 "+code+" X", "Via: SIP/2.0/UDP h;branch=z9hG4bK1", "From: <sip:x@y>;tag=1", "To: <sip:a@b>;tag=2", "Call-ID: c1", "CSeq: 1 OPTIONS", "Content-Length: 0"))
	}
	tests := []struct {
		name, network, answer string
		closeAfter            bool
		want, got             string
	}{
		{"udp final", "udp", res("200"), false, "200", "200"},
		{"udp provisional only", "udp", res("100"), false, "accept", "1xx"},
		{"udp silence", "udp", "", false, "drop", "drop"},
		{"tcp final and close", "tcp", res("400"), true, "400+close", "400+close"},
		{"tcp two finals", "tcp", res("407") + res("401"), false, "accept+accept", "401+407"},
		{"tcp silence", "tcp", "", false, "wait", "drop"},
		{"tcp junk", "tcp", "SIP/2.0 99999 X\r\nVia: x\r\n\r\n", false, "drop", "unparsable"},
	}
	client := Client{Quiet: 200 * time.Millisecond, Wait: 2 * time.Second}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := fakeServer(t, tc.network, tc.answer, tc.closeAfter)
			got, err := client.Exchange(tc.network, addr, msg("OPTIONS sip:a@b SIP/2.0"), tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.got {
				t.Errorf("got %q, want %q", got, tc.got)
			}
		})
	}
	if _, err := client.Exchange("tcp", "127.0.0.1:1", nil, "200"); err == nil {
		t.Error("Exchange with nothing listening: no error")
	}
}

func TestRunTable(t *testing.T) {
	addr := fakeServer(t, "udp", string(msg("SIP/2.0 400 Bad", "Via: SIP/2.0/UDP h;branch=z9hG4bK1", "From: <sip:x@y>;tag=1", "To: <sip:a@b>;tag=2", "Call-ID: c1", "CSeq: 1 OPTIONS")), false)
	sends := []Send{
		{Case: Case{File: "good", Data: msg("OPTIONS sip:a@b SIP/2.0")}, Transport: "udp", Want: "400"},
		{Case: Case{File: "bad", Note: "why not", Data: msg("OPTIONS sip:a@b SIP/2.0")}, Transport: "udp", Want: "200"},
	}
	results := Client{Quiet: 100 * time.Millisecond, Wait: time.Second}.Run(sends, func(int, string) string { return addr })
	if len(results) != 2 || !results[0].OK() || results[1].OK() {
		t.Fatalf("results %v", results)
	}
	if s := results[1].String(); !strings.Contains(s, "got 400, want 200") || !strings.Contains(s, "why not") || !strings.Contains(s, `"OPTIONS sip:a@b SIP/2.0"`) {
		t.Errorf("String of a mismatch: %s", s)
	}
	table := Table(results)
	if !strings.HasPrefix(table, "2 exchanges: 1 as expected, 1 differ") || strings.Count(table, "MISMATCH") != 1 {
		t.Errorf("Table:\n%s", table)
	}
}
