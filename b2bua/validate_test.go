package b2bua

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/test/sipcorpus"
)

func parseReq(t *testing.T, msg string) *sip.Request {
	t.Helper()
	m, err := sip.ParseMessage([]byte(msg))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, msg)
	}
	return m.(*sip.Request)
}

func TestValidate(t *testing.T) {
	req := func(method string, extra ...string) string {
		lines := []string{
			method + " sip:1001@example.com SIP/2.0",
			"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1",
			"From: <sip:1000@example.com>;tag=1",
			"To: <sip:1001@example.com>",
			"Call-ID: c1",
			"CSeq: 1 " + method,
			"Max-Forwards: 70",
		}
		return sipMsg(append(lines, extra...)...)
	}
	sdp := "v=0\r\n"
	withBody := func(method, ctype, body string, extra ...string) string {
		h := append([]string{"Content-Type: " + ctype, fmt.Sprintf("Content-Length: %d", len(body))}, extra...)
		return req(method, h...) + body
	}
	tests := []struct {
		name   string
		msg    string
		code   int    // 0: passes
		header string // "Name: value" the response must carry
	}{
		{"plain options", req("OPTIONS"), 0, ""},
		{"invite with sdp", withBody("INVITE", "application/sdp", sdp), 0, ""},
		{"sdp with params", withBody("INVITE", "Application/SDP; charset=utf-8", sdp), 0, ""},
		{"version", strings.Replace(req("OPTIONS"), "SIP/2.0\r\n", "SIP/2.1\r\n", 1), 505, ""},
		{"unknown method", strings.Replace(req("FOO"), "CSeq: 1 FOO", "CSeq: 1 INVITE", 1), 501, "Allow: " + allowMethods},
		{"missing call-id", strings.Replace(req("OPTIONS"), "Call-ID: c1\r\n", "", 1), 400, ""},
		{"missing from", strings.Replace(req("OPTIONS"), "From: <sip:1000@example.com>;tag=1\r\n", "", 1), 400, ""},
		{"two to", req("OPTIONS", "To: <sip:x@example.com>"), 400, ""},
		{"two max-forwards", req("OPTIONS", "Max-Forwards: 5"), 400, ""},
		{"two contacts in invite", req("INVITE", "Contact: <sip:a@b>, <sip:c@d>"), 400, ""},
		{"two contacts in register ok", req("REGISTER", "Contact: <sip:a@b>, <sip:c@d>"), 0, ""},
		{"cseq mismatch", strings.Replace(req("OPTIONS"), "CSeq: 1 OPTIONS", "CSeq: 1 INVITE", 1), 400, ""},
		{"tel r-uri", strings.Replace(req("OPTIONS"), "sip:1001@example.com SIP", "tel:+15551001 SIP", 1), 416, ""},
		{"register to non-sip aor", strings.Replace(req("REGISTER"), "To: <sip:1001@example.com>", "To: <mailto:a@example.com>", 1), 400, ""},
		{"require unknown", req("OPTIONS", "Require: foo, bar", "Require: baz"), 420, "Unsupported: foo, bar, baz"},
		{"proxy-require ignored", req("OPTIONS", "Proxy-Require: foo"), 0, ""},
		{"require ignored in cancel", req("CANCEL", "Require: foo"), 0, ""},
		{"unknown content type", withBody("INVITE", "application/unknown", "x"), 415, "Accept: application/sdp"},
		{"multipart not unpacked", withBody("INVITE", "multipart/mixed;boundary=x", "x"), 415, ""},
		{"encoding gzip", withBody("INVITE", "application/sdp", sdp, "Content-Encoding: gzip"), 415, "Accept-Encoding: identity"},
		{"encoding compact identity", withBody("INVITE", "application/sdp", sdp, "e: identity"), 0, ""},
		{"body without type", req("INVITE", "Content-Length: 5") + "v=0\r\n", 400, ""},
		{"message body not checked", withBody("MESSAGE", "text/plain", "hi"), 0, ""},
		{"accept without sdp", req("INVITE", "Accept: text/plain"), 406, ""},
		{"accept with sdp", req("INVITE", "Accept: text/plain, application/sdp"), 0, ""},
		{"accept wildcard", req("INVITE", "Accept: application/*"), 0, ""},
		{"accept sdp q=0", req("INVITE", "Accept: application/sdp;q=0"), 406, ""},
		{"accept empty tolerated", req("INVITE", "Accept:"), 0, ""},
		{"accept ignored for options", req("OPTIONS", "Accept: text/plain"), 0, ""},
	}
	s := testServer()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := s.validate(parseReq(t, tc.msg))
			switch {
			case tc.code == 0 && res != nil:
				t.Fatalf("rejected with %d %s", res.StatusCode, res.Reason)
			case tc.code == 0:
				return
			case res == nil:
				t.Fatalf("passed, want %d", tc.code)
			case res.StatusCode != tc.code:
				t.Fatalf("got %d %s, want %d", res.StatusCode, res.Reason, tc.code)
			}
			if res.SipVersion != "SIP/2.0" {
				t.Fatalf("response version %q", res.SipVersion)
			}
			if tc.header != "" {
				name, value, _ := strings.Cut(tc.header, ": ")
				if h := res.GetHeader(name); h == nil || h.Value() != value {
					t.Fatalf("header %s = %v, want %q", name, h, value)
				}
			}
		})
	}
}

// tortureDir holds the RFC 4475 and RFC 5118 messages and expect.tsv.
const tortureDir = "testdata/torture"

// loadTorture reads testdata/torture/expect.tsv and the messages, checked
// against the corpus' own EXPECTATIONS.tsv (see sipcorpus.Load).
func loadTorture(t *testing.T) []sipcorpus.Case {
	t.Helper()
	cases, err := sipcorpus.Load(tortureDir)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// sipgoRejects mirrors sipgo's transaction layer (makeServerTxKey), which
// answers 400 itself when it cannot build a transaction key.
func sipgoRejects(req *sip.Request) bool {
	via, cseq := req.Via(), req.CSeq()
	if via == nil || cseq == nil {
		return true
	}
	if b, _ := via.Params.Get("branch"); strings.HasPrefix(b, sip.RFC3261BranchMagicCookie) && len(b) > len(sip.RFC3261BranchMagicCookie) {
		return false
	}
	if req.From() == nil || req.CallID() == nil {
		return true
	}
	_, ok := req.From().Params.Get("tag")
	return !ok
}

// stageOutcome is what the stages after parsing make of one message.
func stageOutcome(s *Server, m sip.Message) string {
	req, ok := m.(*sip.Request)
	if !ok {
		return "drop" // a response nobody waits for
	}
	if sipgoRejects(req) {
		return "400"
	}
	if res := s.validate(req); res != nil {
		if req.IsAck() {
			return "drop"
		}
		return strconv.Itoa(res.StatusCode)
	}
	return "accept"
}

// answerOutcome is the status code of a filter answer, or "unparsable" if
// sipgo could not read it on the other end (the sender could not match it).
func answerOutcome(res *sip.Response) string {
	m, err := sip.ParseMessage([]byte(res.String()))
	if err != nil {
		return "unparsable"
	}
	r := m.(*sip.Response)
	if r.Via() == nil || r.CallID() == nil || r.From() == nil || r.To() == nil {
		return "incomplete"
	}
	return strconv.Itoa(r.StatusCode)
}

// offlineDatagram runs one UDP datagram through filter, sipgo's parser and
// validate.
func offlineDatagram(s *Server, f *readFilter, log *answerLog, data []byte) string {
	buf := append(make([]byte, 0, len(data)+64), data...)
	out, _ := f.filter(testUDP, buf)
	if res := log.take(); len(res) > 0 {
		return answerOutcome(res[0])
	}
	if len(out) == 0 {
		return "drop"
	}
	m, err := sip.ParseMessage(out)
	if err != nil {
		return "drop" // sipgo drops what it cannot parse
	}
	return stageOutcome(s, m)
}

// offlineStream runs chunks of one TCP connection through filter, sipgo's
// stream parser and validate.
func offlineStream(s *Server, f *readFilter, log *answerLog, chunks [][]byte) string {
	var got []string
	closeErr, parseErr := feedStream(f, log, chunks,
		func(r *sip.Response) { got = append(got, answerOutcome(r)) },
		func(m sip.Message) { got = append(got, stageOutcome(s, m)) },
		func() { got = append(got, "drop") })
	if parseErr != nil {
		got = append(got, "sipgo-closes")
	}
	slices.Sort(got)
	if closeErr != nil || parseErr != nil {
		got = append(got, "close")
	}
	if len(got) == 0 {
		return "wait"
	}
	return strings.Join(got, "+")
}

// TestTortureOffline feeds every RFC 4475 and RFC 5118 message through the
// read filter, sipgo's parser and validate, as one UDP datagram and as a
// TCP stream (whole, cut at every offset, byte by byte), and compares with
// testdata/torture/expect.tsv.
func TestTortureOffline(t *testing.T) {
	s := testServer()
	var table strings.Builder
	fmt.Fprintf(&table, "%-42s %-8s %-8s %-12s %-12s\n", "file", "udp-want", "udp-got", "tcp-want", "tcp-got")
	for _, c := range loadTorture(t) {
		f, log, _ := newTestFilter()
		udp := offlineDatagram(s, f, log, c.Data)
		f, log, _ = newTestFilter()
		tcp := offlineStream(s, f, log, [][]byte{c.Data})
		fmt.Fprintf(&table, "%-42s %-8s %-8s %-12s %-12s\n", c.File, c.UDP, udp, c.TCP, tcp)
		if udp != c.UDP {
			t.Errorf("%s over UDP: got %s, want %s (%s)", c.File, udp, c.UDP, c.Note)
		}
		if tcp != c.TCP {
			t.Errorf("%s over TCP: got %s, want %s (%s)", c.File, tcp, c.TCP, c.Note)
		}
		for i := 1; i < len(c.Data); i++ {
			f, log, _ = newTestFilter()
			if got := offlineStream(s, f, log, [][]byte{c.Data[:i], c.Data[i:]}); got != tcp {
				t.Errorf("%s over TCP cut at %d: got %s, whole gives %s", c.File, i, got, tcp)
				break
			}
		}
		var bytewise [][]byte
		for i := range c.Data {
			bytewise = append(bytewise, c.Data[i:i+1])
		}
		f, log, _ = newTestFilter()
		if got := offlineStream(s, f, log, bytewise); got != tcp {
			t.Errorf("%s over TCP byte by byte: got %s, whole gives %s", c.File, got, tcp)
		}
	}
	t.Logf("outcomes:\n%s", table.String())
}

// --- server test ---

// TestTortureServer sends every RFC 4475 and RFC 5118 message to a running
// Server, over UDP and over TCP, and compares the answers with
// testdata/torture/expect.tsv; then it checks every server still answers
// OPTIONS with 200. test/torture_e2e_test.go runs the same against the
// binary.
//
// Messages are byte-exact, so several share a transaction key (branch,
// sent-by, method): sipgo would treat a second one as a retransmission of
// the first. sipcorpus.Plan therefore sends each message to a server that
// has not yet seen its key; a few servers are started for that.
func TestTortureServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts SIP servers")
	}
	sends, n := sipcorpus.Plan(loadTorture(t))
	servers := make([]*Server, n)
	for i := range servers {
		servers[i] = startTestServer(t, i)
	}
	addr := func(i int, transport string) string { return serverAddr(t, servers[i], transport) }
	results := sipcorpus.Client{}.Run(append(sends, sipcorpus.Probes(n)...), addr)
	for _, r := range results {
		if !r.OK() {
			t.Error(r)
		}
	}
	t.Logf("%d servers; outcomes:\n%s", n, sipcorpus.Table(results))
}

// loopbackListeners are listeners on 127.0.0.1 with ports the kernel
// picks (sip.listen itself refuses port 0).
func loopbackListeners(transports ...string) []config.Listener {
	var ls []config.Listener
	for _, tr := range transports {
		ls = append(ls, config.Listener{Transport: tr, Addr: netip.MustParseAddrPort("127.0.0.1:0")})
	}
	return ls
}

// startTestServer runs a Server on loopback with a throw-away state.
func startTestServer(t *testing.T, n int) *Server {
	t.Helper()
	cfg := &config.Config{}
	cfg.SIP.Listen = []string{"udp://127.0.0.1:5060", "tcp://127.0.0.1:5060"} // validated only; Listen below binds port 0
	cfg.SIP.Domain = "example.com"
	cfg.Media.Address = "127.0.0.1"
	cfg.Media.Ports = fmt.Sprintf("%d-%d", 30000+n*100, 30000+n*100+99)
	cfg.State.Dir = t.TempDir()
	cfg.Records.Dir = t.TempDir()
	cfg.Users = []config.User{{Name: "j.user", Password: "torture-secret"}}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	s, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Listen(context.Background(), loopbackListeners("udp", "tcp")); err != nil {
		_ = s.Close()
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func serverAddr(t *testing.T, s *Server, transport string) string {
	t.Helper()
	for _, a := range s.Addrs() {
		if addr, ok := strings.CutPrefix(a, transport+"://"); ok {
			return addr
		}
	}
	t.Fatalf("server has no %s listener: %v", transport, s.Addrs())
	return ""
}
